//! HTTP tests: the app runs on port 0 with its own temporary database, driven like a browser would.

mod audit;
mod auth;
mod backup;
mod config;
mod helpers;
mod lifecycle;
mod marks;
mod providers;
mod proxy;
mod retention;
mod roles;
