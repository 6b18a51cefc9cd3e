//! Liveness and readiness for load balancers and monitoring.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{AppState, RouteTable};
use crate::auth::roles::Permission;
use crate::store;

pub fn routes() -> RouteTable {
    RouteTable::default().get("/health", Permission::Public, health).get("/ready", Permission::Public, ready)
}

/// 200 when the database answers a query.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if store::ping(&state.db).await {
        (StatusCode::OK, Json(json!({"status": "ok", "database": "ok", "version": env!("CARGO_PKG_VERSION")})))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "error", "database": "unreachable"})))
    }
}

/// 200 when the database answers and every migration this binary knows has been applied.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let expected = store::MIGRATOR.iter().map(|m| m.version).max();
    match store::schema_version(&state.db).await {
        Ok(current) if current == expected => {
            (StatusCode::OK, Json(json!({"status": "ready", "schema_version": current})))
        }
        Ok(current) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "migrations pending", "schema_version": current, "expected": expected})),
        ),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "error", "database": "unreachable"}))),
    }
}
