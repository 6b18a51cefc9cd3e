//! The JSON API under `/api/v1`: the same data and permissions as the screens, for scripts and other systems.
//!
//! Callers sign in with a personal token (auth::token); every route goes through the one [`RouteTable`] and so
//! declares its permission like every page. Errors are problem details ([`problem`]).

pub mod problem;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::error::{AppError, AppResult};
use crate::report::ocds;

pub fn routes() -> RouteTable {
    RouteTable::default().get(ocds::PACKAGE_PATH, Permission::Read, ocds_releases)
}

/// Every contract as one OCDS 1.1 release package (the same as `taalbudget export ocds`).
async fn ocds_releases(State(state): State<AppState>) -> AppResult<Response> {
    let sources = ocds::load(&state.db).await?;
    let package = ocds::build(&sources, &state.config.ocds, &ocds::package_uri(&state.config));
    if package.releases.is_empty() {
        // An OCDS package holds at least one release; an empty one would not be valid.
        return Err(AppError::NotFoundWith("er zijn nog geen contracten om als OCDS te publiceren".into()));
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], ocds::to_json(&package)).into_response())
}
