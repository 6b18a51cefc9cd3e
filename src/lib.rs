//! taalbudget: procurement, budgets and spend for municipal language education under the
//! Wet inburgering. The binary (`src/main.rs`) and the integration tests use this library.

pub mod app;
pub mod auth;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod import;
pub mod money;
pub mod notify;
pub mod ops;
pub mod report;
pub mod store;
pub mod web;
