//! A SIGTERM while an import is committing leaves all of the batch or none of it (issue: running it for real).

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{lines, write_template_file, Ctx};

#[cfg(unix)]
#[test]
fn sigterm_during_an_import_commit_leaves_the_whole_batch_or_none() {
    let ctx = Ctx::new();
    let all = lines(300);
    let file = ctx.path("grootboek.xlsx");
    write_template_file(&file, "standaard-grootboek", &all);
    let before = ctx.snapshot();
    let mut c = ctx.cmd();
    c.args(["import", "ledger"])
        .arg(&file)
        .args(["--template", "standaard-grootboek"])
        .env(taalbudget::import::cli::PAUSE_ENV, "30")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let paused = BufReader::new(stderr).lines().any(|l| l.unwrap().contains("PAUZE VOOR COMMIT"));
    assert!(paused, "the import reached its commit");
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert!(!status.success(), "the import did not report success");
    let after = ctx.snapshot();
    // Either nothing (rolled back) or everything (committed): never a part.
    assert_eq!(after, before, "a terminated import leaves the database exactly as it was");
    let r = ctx.import(&file, "standaard-grootboek", &[]);
    assert_eq!(r.n("rows_imported"), 300);
}
