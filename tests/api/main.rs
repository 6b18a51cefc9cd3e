//! HTTP tests: the app runs on port 0 with its own temporary database, driven like a browser would.

mod attribution;
mod audit;
mod auth;
mod contracts;
mod funding;
mod helpers;
mod marks;
mod providers;
mod reports;
mod roles;
