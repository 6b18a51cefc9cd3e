// Rebuild when a migration changes: sqlx::migrate! embeds them at compile time. The newest migration
// number is also the schema version `taalbudget --version` prints.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let newest = std::fs::read_dir("migrations")
        .expect("migrations directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.split('_').next()?.parse::<i64>().ok())
        .max()
        .unwrap_or(0);
    println!("cargo:rustc-env=TAALBUDGET_SCHEMA_VERSION={newest}");
}
