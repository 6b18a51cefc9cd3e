//! `taalbudget report reconciliation`: JSON, CSV and xlsx give the same figures, to the cent.

use std::process::Command;

use calamine::{Data, Reader, Xlsx};

fn cli(db: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taalbudget"));
    c.arg("--db").arg(db).env("TAALBUDGET_LOG", "error");
    c
}

fn cents(s: &str) -> i64 {
    taalbudget::money::Money::parse_with(s, taalbudget::money::AmountStyle::Plain).unwrap().cents()
}

#[test]
fn json_csv_and_xlsx_agree_and_the_year_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    assert!(cli(&db).arg("demo").output().unwrap().status.success());

    let out = cli(&db).args(["report", "reconciliation", "--year", "2023", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = json["streams"].as_array().unwrap();
    let actual: i64 = streams.iter().map(|s| cents(s["actual"].as_str().unwrap())).sum();
    let unattributed = cents(json["unattributed"].as_str().unwrap());
    assert_eq!(
        actual + unattributed,
        cents(json["imported_total"].as_str().unwrap()),
        "attributed + unattributed = imported"
    );
    for s in streams {
        let [a, b, c, d] = ["available", "actual", "committed", "remaining"].map(|k| cents(s[k].as_str().unwrap()));
        assert_eq!(d, a - b - c, "{}", s["code"]);
    }
    assert!(unattributed > 0, "the demo has lines no rule matches");

    let csv = cli(&db).args(["report", "reconciliation", "--year", "2023", "--format", "csv"]).output().unwrap();
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with('\u{feff}'), "UTF-8 with BOM");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for s in streams {
        let code = s["code"].as_str().unwrap();
        let row = rows.iter().find(|r| &r[1] == code && r[3].is_empty()).unwrap();
        assert_eq!(&row[5], s["actual"].as_str().unwrap(), "{code} actual");
        assert_eq!(&row[7], s["remaining"].as_str().unwrap(), "{code} remaining");
        // The split of the commitments comes last, so older scripts keep their columns.
        for (i, field) in [(6, "committed"), (8, "overdue"), (9, "to_come")] {
            assert_eq!(&row[i], s[field].as_str().unwrap(), "{code} {field}");
        }
        assert_eq!(cents(&row[8]) + cents(&row[9]), cents(&row[6]), "{code}: overdue + to come = committed");
    }

    let path = dir.path().join("aansluiting.xlsx");
    let out = cli(&db)
        .args(["report", "reconciliation", "--year", "2023", "--format", "xlsx", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let range = wb.worksheet_range("Aansluiting 2023").unwrap();
    for s in streams {
        let code = s["code"].as_str().unwrap();
        let row = range
            .rows()
            .find(|r| {
                r[1] == Data::String(code.into()) && r[3] == Data::String(String::new())
                    || (r[1] == Data::String(code.into()) && r[3] == Data::Empty)
            })
            .unwrap();
        // In the xlsx the split of the commitments sits next to them.
        for (i, field) in [(5, "actual"), (6, "committed"), (7, "overdue"), (8, "to_come"), (9, "remaining")] {
            let Data::Float(v) = row[i] else { panic!("{field} is a number in {code}") };
            assert_eq!(
                taalbudget::import::cells::money_from_number(v).unwrap().cents(),
                cents(s[field].as_str().unwrap()),
                "{code} {field}"
            );
        }
    }

    let only = cli(&db)
        .args(["report", "reconciliation", "--year", "2023", "--stream", "spuk", "--format", "json"])
        .output()
        .unwrap();
    let only: serde_json::Value = serde_json::from_slice(&only.stdout).unwrap();
    assert_eq!(only["streams"].as_array().unwrap().len(), 1);
    let bad = cli(&db)
        .args(["report", "reconciliation", "--year", "2023", "--stream", "NIETS", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("onbekende financieringsbron 'NIETS'"));
    let no_out = cli(&db).args(["report", "reconciliation", "--year", "2023", "--format", "xlsx"]).output().unwrap();
    assert_eq!(no_out.status.code(), Some(2));
}
