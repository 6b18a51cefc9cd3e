//! HTTP tests: the app runs on port 0 with its own temporary database, driven like a browser would.

mod audit;
mod auth;
mod contracts;
mod helpers;
mod marks;
mod providers;
mod quality;
mod roles;
