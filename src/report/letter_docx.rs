//! The progress letter as a Word document (docx-rs) that the policy adviser edits into the letter to the
//! council: a title block, a section per theme with each table's generated summary, the table and its charts (the
//! indicator page's SVG, drawn to PNG with resvg), and the definitions as an appendix. Plain built-in styles
//! (Title, Heading 1/2, Caption), so the letter takes on the municipality's house style when pasted into it.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BreakType, Docx, Paragraph, Pic, Run, Style, StyleType, Table, TableCell, TableRow, WidthType,
};

use crate::domain::dates;
use crate::report::letter::{Chart, Fig, Letter};

/// A4 in twentieths of a point, with 2 cm margins: 17 cm of text width.
const PAGE_WIDTH: u32 = 11_906;
const PAGE_HEIGHT: u32 = 16_838;
const MARGIN: i32 = 1_134;
const TEXT_WIDTH: usize = 9_638;
/// The charts' drawing size (web::charts draws on a 640 x 300 grid) and the picture's size in the letter
/// (16 cm wide, in EMU: 360,000 per cm).
const CHART_W: u32 = 640;
const CHART_H: u32 = 300;
const PICTURE_W: u32 = 16 * 360_000;

/// A chart's SVG as PNG at twice its size (sharp in print); None when the SVG cannot be drawn (then the letter
/// keeps the chart's title, description and legend, and the table beside it carries the figures).
pub fn chart_png(svg: &str) -> Option<Vec<u8>> {
    use resvg::{tiny_skia, usvg};
    static FONTS: std::sync::OnceLock<std::sync::Arc<usvg::fontdb::Database>> = std::sync::OnceLock::new();
    let fonts = FONTS.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_system_fonts();
        std::sync::Arc::new(db)
    });
    // The charts name no font (the page's stylesheet gives one): take a plain sans-serif the system has.
    let family = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica"]
        .into_iter()
        .find(|f| fonts.faces().any(|face| face.families.iter().any(|(name, _)| name == f)))
        .or_else(|| fonts.faces().next().and_then(|f| f.families.first()).map(|(n, _)| n.as_str()))
        .unwrap_or("sans-serif")
        .to_string();
    let options = usvg::Options { fontdb: fonts.clone(), font_family: family, ..usvg::Options::default() };
    // The page's SVG sizes itself to its container (width="100%"); a standalone drawing needs its own size.
    let svg = svg.replacen(r#"width="100%""#, &format!(r#"width="{CHART_W}" height="{CHART_H}""#), 1);
    let tree = usvg::Tree::from_str(&svg, &options).ok()?;
    let mut pixmap = tiny_skia::Pixmap::new(CHART_W * 2, CHART_H * 2)?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(2.0, 2.0), &mut pixmap.as_mut());
    pixmap.encode_png().ok()
}

fn text(t: &str) -> Paragraph {
    Paragraph::new().add_run(Run::new().add_text(t))
}

fn styled(t: &str, style: &str) -> Paragraph {
    text(t).style(style)
}

fn cell(t: &str, bold: bool, right: bool) -> TableCell {
    let run = if bold { Run::new().add_text(t).bold() } else { Run::new().add_text(t) };
    let p = Paragraph::new().add_run(run);
    TableCell::new().add_paragraph(if right { p.align(AlignmentType::Right) } else { p })
}

fn table(t: &crate::report::letter::Table) -> Table {
    let n = t.columns.len().max(1);
    // The label column twice as wide as a figure's.
    let unit = TEXT_WIDTH / (n + 1);
    let mut grid = vec![unit * 2];
    grid.extend(std::iter::repeat_n(unit, n - 1));
    let header = TableRow::new(t.columns.iter().enumerate().map(|(i, c)| cell(c, true, i > 0)).collect());
    let mut rows = vec![header];
    for r in &t.rows {
        let mut cells = vec![cell(&r.label, false, false)];
        cells.extend(r.cells.iter().map(|f| cell(&f.text(), false, !matches!(f, Fig::Text(_)))));
        rows.push(TableRow::new(cells));
    }
    Table::new(rows).set_grid(grid).width(TEXT_WIDTH, WidthType::Dxa)
}

fn chart(docx: Docx, c: &Chart) -> Docx {
    let mut docx = docx.add_paragraph(styled(&c.title, "Heading3").keep_next(true));
    if let Some(png) = chart_png(&c.svg) {
        let pic =
            Pic::new_with_dimensions(png, CHART_W * 2, CHART_H * 2).size(PICTURE_W, PICTURE_W / CHART_W * CHART_H);
        docx = docx.add_paragraph(Paragraph::new().add_run(Run::new().add_image(pic)));
    }
    docx = docx.add_paragraph(styled(&c.description, "Caption"));
    for item in &c.legend {
        docx = docx.add_paragraph(styled(&format!("• {item}"), "Caption"));
    }
    docx
}

fn styles(docx: Docx) -> Docx {
    docx.add_style(Style::new("Title", StyleType::Paragraph).name("Title").size(40).bold())
        .add_style(Style::new("Heading1", StyleType::Paragraph).name("Heading 1").size(32).bold())
        .add_style(Style::new("Heading2", StyleType::Paragraph).name("Heading 2").size(26).bold())
        .add_style(Style::new("Heading3", StyleType::Paragraph).name("Heading 3").size(22).bold())
        .add_style(Style::new("Caption", StyleType::Paragraph).name("Caption").size(18).italic())
}

/// The letter as a .docx file.
pub fn letter_docx(letter: &Letter) -> Result<Vec<u8>, docx_rs::DocxError> {
    let mut docx = styles(Docx::new())
        .page_size(PAGE_WIDTH, PAGE_HEIGHT)
        .page_margin(docx_rs::PageMargin::new().top(MARGIN).bottom(MARGIN).left(MARGIN).right(MARGIN));
    docx = docx
        .add_paragraph(styled(&letter.title, "Title"))
        .add_paragraph(text(&format!(
            "Concept voor de brief aan de gemeenteraad. Cijfers uit taalbudget, stand van {}.",
            dates::dutch_long(letter.data_day)
        )))
        .add_paragraph(text(&format!(
            "Jaren: {}. {}",
            letter.years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", "),
            match &letter.scenario {
                Some(s) => format!("De instroom staat tegenover prognosescenario ‘{s}’."),
                None => "Zonder prognosescenario.".to_string(),
            }
        )))
        .add_paragraph(text(
            "Alleen totalen: een cijfer over minder dan 5 personen staat er als ‘minder dan 5’. De definities staan in de bijlage.",
        ));
    for s in &letter.sections {
        docx = docx.add_paragraph(styled(&s.heading, "Heading1").keep_next(true));
        for t in &s.tables {
            docx = docx.add_paragraph(text(&t.summary));
            // A table without rows says nothing its summary does not ("Er zijn nog geen ...").
            if !t.rows.is_empty() {
                docx = docx
                    .add_paragraph(styled(&t.caption, "Caption").keep_next(true))
                    .add_table(table(t))
                    .add_paragraph(text(""));
            }
        }
        for c in &s.charts {
            docx = chart(docx, c);
        }
    }
    docx = docx
        .add_paragraph(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)))
        .add_paragraph(styled("Bijlage: definities", "Heading1"));
    for d in &letter.definitions {
        docx = docx
            .add_paragraph(styled(d.name, "Heading2"))
            .add_paragraph(text(&format!("{} Bron: het scherm {}.", d.definition, d.source)));
    }
    let mut out = Vec::new();
    docx.build().pack(Cursor::new(&mut out))?;
    Ok(out)
}
