//! Mutation test: ledger files of every kind taalbudget reads (xlsx with shared or inline strings, xls, ods,
//! csv; plus the sample files in ../shared/samples when they are there) are damaged in more than a thousand
//! ways from a fixed seed (flipped bytes, truncations, zip entries dropped or duplicated, XML tags cut, numbers
//! blown up) and each mutant is imported through the binary. Every outcome must be one a user can live with: no
//! panic, peak memory under 64 MB, and either a refusal (exit 1 or 2, a Dutch message, the database untouched)
//! or a correct import (exit 0, the rows and euros it reports are the rows and euros stored).

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::*;

/// The seed of every mutant: a failure names its number, and the same number is the same file on any machine.
const SEED: u64 = 0x7461_616C_6275_6467;
const MUTANTS_PER_FIXTURE: usize = 160;
const PEAK_LIMIT_KB: u64 = 64 * 1024;

/// xorshift64*: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One original file to mutate: its bytes, the template that reads it, and a name with the right extension.
struct Fixture {
    name: String,
    template: &'static str,
    bytes: Vec<u8>,
}

fn fixtures(dir: &Path) -> Vec<Fixture> {
    let mut out = Vec::new();
    let mut add = |name: &str, template: &'static str, path: PathBuf| {
        out.push(Fixture { name: name.to_string(), template, bytes: std::fs::read(path).unwrap() });
    };
    let all = lines(12);
    // xlsx as rust_xlsxwriter writes it: shared strings, date cells, number cells.
    let p = dir.join("gedeeld.xlsx");
    write_template_file(&p, "standaard-grootboek", &all);
    add("gedeeld.xlsx", "standaard-grootboek", p);
    // xlsx with a title block, text dates and Dutch text amounts.
    let p = dir.join("tekst.xlsx");
    xlsx(&p, |ws| {
        ws.write_string(0, 0, "Grootboekmutaties 2023").unwrap();
        headers(ws, 2);
        for r in 0..10u32 {
            text_row(ws, r + 3, &format!("{:02}-03-2023", r + 1), &format!("{},{:02}", 100 + r * 37, r * 7 % 100));
        }
    });
    add("tekst.xlsx", "standaard-grootboek", p);
    // xlsx with inline strings (constant-memory writer), as some exporters write them.
    let p = dir.join("inline.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet_with_constant_memory().unwrap();
    ws.set_name("Grootboek").unwrap();
    headers(ws, 0);
    for r in 1..=10u32 {
        good_row(ws, r, r as usize, r as f64 * 12.34);
    }
    wb.save(&p).unwrap();
    add("inline.xlsx", "standaard-grootboek", p);
    // xls (BIFF8) and ods, with text cells.
    let rows: Vec<[String; 5]> = (0..10)
        .map(|i| {
            [
                format!("{:02}-02-2023", i + 1),
                "4301".into(),
                "KP100".into(),
                format!("Cursus {i}"),
                format!("{}", 100 + i * 3),
            ]
        })
        .collect();
    let heads = ["Boekdatum", "Grootboekrekening", "Kostenplaats", "Omschrijving", "Bedrag"];
    // The .xls computes its amounts (=100+3): calamine decodes every formula a workbook holds.
    let sums: Vec<String> = (0..10).map(|i| format!("=100+{}", i * 3)).collect();
    let mut cells: Vec<(u16, u16, &str)> = heads.iter().enumerate().map(|(c, h)| (0, c as u16, *h)).collect();
    for (r, row) in rows.iter().enumerate() {
        let value = |c: usize| if c == 4 { sums[r].as_str() } else { row[c].as_str() };
        cells.extend((0..row.len()).map(|c| (r as u16 + 1, c as u16, value(c))));
    }
    let p = dir.join("grootboek.xls");
    xls(&p, &cells);
    add("grootboek.xls", "standaard-grootboek", p);
    let mut table = vec![heads.to_vec()];
    table.extend(rows.iter().map(|r| r.iter().map(String::as_str).collect::<Vec<_>>()));
    let p = dir.join("grootboek.ods");
    ods(&p, &table, None);
    add("grootboek.ods", "standaard-grootboek", p);
    // csv in Windows-1252 with semicolons.
    let p = dir.join("grootboek.csv");
    write_template_file(&p, "grootboek-csv-1252", &all);
    add("grootboek.csv", "grootboek-csv-1252", p);
    // The sample files from other writers, when the shared directory sits beside the repository (in CI), or
    // where TAALBUDGET_SAMPLES says.
    let samples = std::env::var_os("TAALBUDGET_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples"));
    for name in
        ["grootboek-openpyxl.xlsx", "grootboek-tekst.xlsx", "grootboek-libreoffice.xls", "grootboek-libreoffice.ods"]
    {
        if samples.join(name).is_file() {
            add(name, "standaard-grootboek", samples.join(name));
        } else {
            eprintln!("note: {} not found; its mutants are left out", samples.join(name).display());
        }
    }
    out
}

/// A damaged copy of `f`, and what was done to it.
fn mutate(f: &Fixture, rng: &mut Rng) -> (Vec<u8>, String) {
    let zipped = f.bytes.starts_with(b"PK\x03\x04");
    let ops = if zipped { 9 } else { 4 };
    let mut b = f.bytes.clone();
    match rng.below(ops) {
        0 => {
            let n = 1 + rng.below(8);
            for _ in 0..n {
                let at = rng.below(b.len());
                b[at] ^= 1 + rng.below(255) as u8;
            }
            (b, format!("{n} byte(s) flipped"))
        }
        1 => {
            let at = rng.below(b.len());
            b.truncate(at);
            (b, format!("cut at byte {at}"))
        }
        2 => {
            // A run of bytes overwritten with one value (a zeroed or 0xFF sector, as a bad disk leaves).
            let at = rng.below(b.len());
            let len = (1 + rng.below(512)).min(b.len() - at);
            let v = if rng.below(2) == 0 { 0 } else { 0xFF };
            b[at..at + len].fill(v);
            (b, format!("{len} bytes at {at} set to {v:#04x}"))
        }
        3 => {
            // A slice of the file repeated or removed.
            let at = rng.below(b.len());
            let len = (1 + rng.below(256)).min(b.len() - at);
            if rng.below(2) == 0 {
                let piece = b[at..at + len].to_vec();
                b.splice(at..at, piece);
                (b, format!("{len} bytes at {at} doubled"))
            } else {
                b.drain(at..at + len);
                (b, format!("{len} bytes at {at} removed"))
            }
        }
        op => mutate_zip(&f.bytes, op, rng),
    }
}

/// Mutations inside the zip: entries dropped or duplicated, XML cut, numbers blown up; rewritten stored.
fn mutate_zip(bytes: &[u8], op: usize, rng: &mut Rng) -> (Vec<u8>, String) {
    let mut entries = unzip(bytes);
    let pick = rng.below(entries.len());
    let name = entries[pick].0.clone();
    let what = match op {
        4 => {
            entries.remove(pick);
            format!("entry {name} dropped")
        }
        5 => {
            // The copy comes last, with its content changed, so which one a reader takes matters.
            let mut copy = entries[pick].clone();
            let at = rng.below(copy.1.len().max(1));
            copy.1.truncate(at);
            entries.push(copy);
            format!("entry {name} duplicated, the second cut at {at}")
        }
        6 => {
            // Cut a tag: from a '<' onwards, a few to a few hundred bytes go.
            let data = &mut entries[pick].1;
            let from = rng.below(data.len().max(1));
            match data[from.min(data.len())..].iter().position(|&c| c == b'<') {
                Some(lt) => {
                    let at = from + lt;
                    let len = (1 + rng.below(300)).min(data.len() - at);
                    data.drain(at..at + len);
                    format!("{len} bytes from a tag at {at} of {name} cut")
                }
                None => {
                    data.truncate(from);
                    format!("{name} cut at {from}")
                }
            }
        }
        7 => {
            let data = &mut entries[pick].1;
            let at = rng.below(data.len().max(1));
            data.truncate(at);
            format!("{name} cut at {at}")
        }
        _ => {
            // A number in the XML (a count, a repeat, a size, a cell reference) blown up.
            let data = &mut entries[pick].1;
            let starts: Vec<usize> = (0..data.len())
                .filter(|&i| data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit()))
                .collect();
            if starts.is_empty() {
                format!("{name} unchanged (no number)")
            } else {
                let at = starts[rng.below(starts.len())];
                let end = at + data[at..].iter().take_while(|c| c.is_ascii_digit()).count();
                let huge: &[u8] =
                    [&b"1048576"[..], b"16384", b"99999999999999999999", b"2147483648", b"4000000000"][rng.below(5)];
                data.splice(at..end, huge.iter().copied());
                format!("a number at {at} of {name} set to {}", String::from_utf8_lossy(huge))
            }
        }
    };
    let raw: Vec<RawEntry> = entries.into_iter().map(|(n, d)| RawEntry::stored(&n, d)).collect();
    (raw_zip(&raw), what)
}

/// Words that say a message is written for a Dutch reader (every message also names what to do).
fn dutch(message: &str) -> bool {
    let m = message.to_lowercase();
    [
        " de ", " het ", " een ", " is ", " niet", "geen", "bestand", "werkmap", "werkblad", "rij", "kolom", "leeg",
        "ongeldig", "bedrag", "datum", "opnieuw",
    ]
    .iter()
    .any(|w| m.contains(w))
}

/// What one worker found.
#[derive(Default)]
struct Tally {
    mutants: usize,
    refused: usize,
    imported: usize,
    panics: usize,
    peak_kb: u64,
    failures: Vec<String>,
}

/// The database as a mutant's import may change it: whether anything was committed, and the ledger.
#[derive(Debug, PartialEq)]
struct Snapshot {
    version: i64,
    lines: i64,
    cents: i64,
}

/// Imports each mutant `i` with `i % workers == worker` into this worker's own database.
fn work(worker: usize, workers: usize, fixtures: &[Fixture], total: usize) -> Tally {
    let ctx = Ctx::new();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // The pool's connection goes back to the pool when the worker ends, which needs the runtime.
    let _inside = rt.enter();
    // The database exists (migrated) before the first mutant, so "unchanged" compares like with like.
    let pool = rt.block_on(taalbudget::store::connect(&ctx.db)).unwrap();
    // One connection for every look: SQLite's data_version, read again on the same connection, differs exactly
    // when another connection (the import) has committed something, to any table.
    let mut conn = rt.block_on(pool.acquire()).unwrap();
    let mut snapshot = || {
        rt.block_on(async {
            let version: i64 = sqlx::query_scalar("PRAGMA data_version").fetch_one(&mut *conn).await.unwrap();
            let (lines, cents) = taalbudget::store::imports::ledger_totals(&mut *conn).await.unwrap();
            Snapshot { version, lines, cents }
        })
    };
    let mut t = Tally::default();
    // TAALBUDGET_MUTANT=N imports mutant N only, and leaves it in the working directory to look at.
    let only: Option<usize> = std::env::var("TAALBUDGET_MUTANT").ok().and_then(|n| n.parse().ok());
    for i in (worker..total).step_by(workers) {
        if only.is_some_and(|n| n != i) {
            continue;
        }
        let f = &fixtures[i % fixtures.len()];
        let mut rng = Rng(SEED ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let (bytes, what) = mutate(f, &mut rng);
        let file = ctx.path(&format!("mutant-{i}-{}", f.name));
        std::fs::write(&file, &bytes).unwrap();
        if only.is_some() {
            std::fs::write(format!("mutant-{i}-{}", f.name), &bytes).unwrap();
        }
        let before = snapshot();
        let r = ctx.import(&file, f.template, &[]);
        let after = snapshot();
        t.mutants += 1;
        t.peak_kb = t.peak_kb.max(r.peak_kb);
        let id = format!("mutant {i} ({}: {what})", f.name);
        let mut fail = |why: String| t.failures.push(format!("{id}: {why}"));
        // A panic inside calamine is caught and logged ("liep vast"); it still counts: none may happen.
        if r.stderr.contains("panicked") || r.stderr.contains("liep vast") || r.code == 101 {
            t.panics += 1;
            fail(format!("panic: {}", r.stderr.lines().take(3).collect::<Vec<_>>().join(" | ")));
        }
        if r.peak_kb >= PEAK_LIMIT_KB || r.peak_kb == 0 && cfg!(target_os = "linux") {
            fail(format!("peak memory {} kB", r.peak_kb));
        }
        match r.code {
            0 => {
                t.imported += 1;
                let n = |k: &str| r.json[k].as_i64().unwrap_or(-1);
                if n("rows_read") != n("rows_imported") + n("rows_duplicate") + n("rows_rejected") {
                    fail(format!("counts do not add up: {}", r.json));
                }
                let cents = r.json["amount_total"].as_str().and_then(|a| a.replace('.', "").parse::<i64>().ok());
                let stored = (after.lines - before.lines, after.cents - before.cents);
                if stored != (n("rows_imported"), cents.unwrap_or(i64::MIN)) {
                    fail(format!("reported {} rows {:?} cents, stored {stored:?}", n("rows_imported"), cents));
                }
                // The check below has teeth: an import that stores lines is seen as a change.
                if n("rows_imported") > 0 && after.version == before.version {
                    fail("lines stored but the database reads as unchanged".into());
                }
            }
            1 | 2 => {
                t.refused += 1;
                let messages = r.messages();
                if !r.json["batch"].is_null() {
                    fail(format!("refused with a batch: {}", r.json));
                }
                if messages.is_empty() || !messages.iter().all(|m| dutch(m)) {
                    fail(format!("no Dutch message: {messages:?} {}", r.stderr));
                }
                if after != before {
                    fail(format!("database changed from {before:?} to {after:?}"));
                }
            }
            code => fail(format!("exit code {code}: {}", r.stderr.lines().take(3).collect::<Vec<_>>().join(" | "))),
        }
    }
    rt.block_on(pool.close());
    t
}

#[test]
fn a_thousand_damaged_files_are_refused_in_dutch_or_imported_correctly_never_a_panic_and_within_64_mb() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = fixtures(dir.path());
    // At least 1,000 however many fixtures there are; each fixture gets the same share.
    let per_fixture: usize = std::env::var("TAALBUDGET_MUTANTS_PER_FIXTURE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(MUTANTS_PER_FIXTURE);
    let total = (per_fixture * fixtures.len()).max(1_000);
    // Each fixture as it is imports whole: the mutants start from files that work.
    for f in &fixtures {
        let ctx = Ctx::new();
        let file = ctx.path(&f.name);
        std::fs::write(&file, &f.bytes).unwrap();
        let r = ctx.import(&file, f.template, &[]);
        assert_eq!((r.code, r.n("rows_rejected")), (0, 0), "{}: {:?}", f.name, r.messages());
        assert!(r.n("rows_imported") >= 10, "{}", f.name);
    }
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 4);
    let started = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                s.spawn({
                    let f = &fixtures;
                    move || work(w, workers, f, total)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sum = |f: fn(&Tally) -> usize| tallies.iter().map(f).sum::<usize>();
    let (mutants, refused, imported, panics) =
        (sum(|t| t.mutants), sum(|t| t.refused), sum(|t| t.imported), sum(|t| t.panics));
    let peak = tallies.iter().map(|t| t.peak_kb).max().unwrap_or(0);
    let failures: Vec<&String> = tallies.iter().flat_map(|t| &t.failures).collect();
    // The counts the closing note of issue #18 quotes.
    eprintln!(
        "mutation test: {mutants} mutants of {} fixtures ({}), {refused} refused, {imported} imported, panics={panics}, \
         {} failures; max VmHWM {peak} kB ({:.1} MB); {:.1} s on {workers} workers",
        fixtures.len(),
        fixtures.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "),
        failures.len(),
        peak as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
    if std::env::var("TAALBUDGET_MUTANT").is_err() {
        assert!(mutants >= 1_000);
    }
    assert_eq!(mutants, refused + imported + failures.iter().filter(|f| f.contains("exit code")).count());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.iter().take(30).map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(panics, 0);
}
