//! Every table on a page scrolls inside its own labelled, keyboard-focusable region instead of the page.
//!
//! This is the table container of the NL Design System (Utrecht's `utrecht-table-container`): a wide table
//! (the multi-year overview, the scorecard, a quality report) scrolls sideways on its own while the page keeps
//! to the window at 1280 px and reflows at 320 px (WCAG 1.4.10). The layout applies it to the rendered page, so
//! no view has to remember it and a new table gets it too; `assets/style.css` (`.table-scroll`) keeps the first
//! column in view and amounts, dates and codes on one line.

use maud::{Markup, PreEscaped};

const OPEN: &str = "<table";
const CLOSE: &str = "</table>";

/// Wraps each outermost `<table>` of `markup` in `<div class="table-scroll" role="region" tabindex="0">`,
/// labelled by the table's caption (which gets an id `tabel-N` when it has none) or, without a caption, by
/// "Tabel". A region is focusable so keyboard users can scroll it; its label says which table they are in.
///
/// Working on the rendered text is sound because maud escapes `<` in every text and attribute value it writes,
/// so `<table` and `</table>` in its output are always tags.
pub fn scroll_tables(markup: Markup) -> Markup {
    let html = markup.into_string();
    if !html.contains(OPEN) {
        return PreEscaped(html);
    }
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html.as_str();
    let mut n = 0;
    while let Some(start) = find_tag(rest, OPEN) {
        let Some(len) = table_len(&rest[start..]) else { break };
        n += 1;
        out.push_str(&rest[..start]);
        wrap(&mut out, &rest[start..start + len], n);
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    PreEscaped(out)
}

/// The first `tag` (`<table`, `<caption`) in `s` that is a whole tag name (followed by `>` or a space).
fn find_tag(s: &str, tag: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find(tag).map(|i| i + from) {
        if matches!(s.as_bytes().get(i + tag.len()), Some(b'>' | b' ')) {
            return Some(i);
        }
        from = i + tag.len();
    }
    None
}

/// The length of the table that `s` starts with, nested tables included; `None` when it is not closed.
fn table_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = 0;
    loop {
        let open = find_tag(&s[at..], OPEN).map(|i| i + at);
        let close = s[at..].find(CLOSE).map(|i| i + at)?;
        match open {
            Some(o) if o < close => {
                depth += 1;
                at = o + OPEN.len();
            }
            _ => {
                depth -= 1;
                at = close + CLOSE.len();
                if depth == 0 {
                    return Some(at);
                }
            }
        }
    }
}

fn wrap(out: &mut String, table: &str, n: usize) {
    // Only the table's own caption, which HTML puts first inside it; a nested table's caption is not the label.
    let head_end = table.find('>').map_or(table.len(), |i| i + 1);
    let own_caption = table[head_end..].trim_start().starts_with("<caption");
    if !own_caption {
        out.push_str(r#"<div class="table-scroll" role="region" tabindex="0" aria-label="Tabel">"#);
        out.push_str(table);
        out.push_str("</div>");
        return;
    }
    let at = find_tag(table, "<caption").unwrap_or(head_end);
    let tag_end = table[at..].find('>').map_or(table.len(), |i| at + i);
    let caption_tag = &table[at..tag_end];
    let existing = caption_tag.split_once(" id=\"").and_then(|(_, v)| v.split_once('"')).map(|(id, _)| id.to_string());
    let id = existing.clone().unwrap_or_else(|| format!("tabel-{n}"));
    out.push_str(r#"<div class="table-scroll" role="region" tabindex="0" aria-labelledby=""#);
    out.push_str(&id);
    out.push_str(r#"">"#);
    if existing.is_some() {
        out.push_str(table);
    } else {
        let name_end = at + "<caption".len();
        out.push_str(&table[..name_end]);
        out.push_str(r#" id=""#);
        out.push_str(&id);
        out.push('"');
        out.push_str(&table[name_end..]);
    }
    out.push_str("</div>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use maud::html;

    fn wrapped(m: Markup) -> String {
        scroll_tables(m).into_string()
    }

    #[test]
    fn a_table_with_a_caption_is_wrapped_in_a_region_labelled_by_its_caption() {
        let page = wrapped(html! {
            h1 { "Contracten" }
            table.overview { caption { "Per jaar" } tbody { tr { td { "€ 1,00" } } } }
            p { "na" }
        });
        assert_eq!(
            page,
            "<h1>Contracten</h1><div class=\"table-scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"tabel-1\">\
             <table class=\"overview\"><caption id=\"tabel-1\">Per jaar</caption><tbody><tr><td>€ 1,00</td></tr></tbody>\
             </table></div><p>na</p>"
        );
    }

    #[test]
    fn a_caption_keeps_its_own_id_and_each_table_gets_a_label_of_its_own() {
        let page = wrapped(html! {
            table { caption #normen { "Normen" } }
            table { caption { "Tweede" } }
        });
        assert_eq!(
            page,
            "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"normen\"><table>\
             <caption id=\"normen\">Normen</caption></table></div>\
             <div class=\"table-scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"tabel-2\"><table>\
             <caption id=\"tabel-2\">Tweede</caption></table></div>"
        );
    }

    #[test]
    fn a_table_without_a_caption_is_labelled_tabel_and_a_nested_one_is_not_wrapped_again() {
        let page = wrapped(html! { table #t { tr { td { table { caption { "binnen" } } } } } });
        assert_eq!(
            page,
            "<div class=\"table-scroll\" role=\"region\" tabindex=\"0\" aria-label=\"Tabel\"><table id=\"t\"><tr><td>\
             <table><caption>binnen</caption></table></td></tr></table></div>"
        );
    }

    #[test]
    fn text_that_mentions_a_table_tag_is_escaped_by_maud_and_left_alone() {
        let page = wrapped(html! { p { "<table> en <tablet" } input value="<table>"; });
        assert_eq!(page, "<p>&lt;table&gt; en &lt;tablet</p><input value=\"&lt;table&gt;\">");
    }
}
