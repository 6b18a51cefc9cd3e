//! HTTP tests: the app runs on port 0 with its own temporary database, driven like a browser would.

mod aggregates;
mod attribution;
mod audit;
mod auth;
mod backup;
mod config;
mod contracts;
mod funding;
mod helpers;
mod imports;
mod invariants;
mod lifecycle;
mod marks;
mod overview;
mod progress;
mod providers;
mod proxy;
mod quality;
mod races;
mod register_imports;
mod reports;
mod retention;
mod roles;
