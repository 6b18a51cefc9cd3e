//! What reading one file may hold in memory, and the measurements that refuse a file before calamine would hold
//! more. calamine keeps an xlsx workbook's shared strings, styles, sheet list and relationships whole from the
//! moment it opens the file, and its XML reader buffers every event (one text or one tag) whole: a 23 MB upload
//! whose shared-strings table unpacks to 1 GB took the server from 355 MB to 1.3 GB. Here the zip directory
//! (whose sizes the zip reader enforces) and a streaming pass over each part say what calamine would hold, and a
//! file that would not fit is refused with a message that names the part.

use std::collections::HashMap;
use std::io::{BufReader, Read, Seek};

use super::source::FileError;

/// What the reader may hold in memory for one file: calamine's tables, one sheet's grid (.ods, .xls), one event
/// of an XML part, one CSV record. The engine's own buffers (bounded chunks, at most 10,000 listed errors)
/// come on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadBudget {
    pub bytes: u64,
}

impl Default for ReadBudget {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl ReadBudget {
    /// 128 MB: a ledger of several hundred thousand lines saved by Excel (every text cell in the shared-strings
    /// table) fits; `read_memory_mb` changes it.
    pub const DEFAULT: ReadBudget = ReadBudget { bytes: 128 << 20 };

    /// The longest CSV record (one row, quoted line breaks included) the reader takes.
    pub fn max_csv_record(self) -> u64 {
        self.bytes / 8
    }

    /// A refusal naming what was too large and how much it would take, with what the user can do about it.
    pub fn refuse(self, what: &str, needs: String) -> FileError {
        FileError(format!(
            "{what} {needs}; taalbudget leest per bestand hooguit {} MB. Verdeel de regels over meer bestanden, of sla \
             het bestand op als CSV (dat leest taalbudget regel voor regel); de beheerder kan de grens verhogen met \
             de instelling read_memory_mb",
            mb(self.bytes)
        ))
    }
}

/// Whole megabytes (MiB, as the settings count them), rounded up, with Dutch thousands separators: `1.040`.
pub fn mb(bytes: u64) -> String {
    thousands(bytes.div_ceil(1 << 20))
}

/// A count with Dutch thousands separators: `1.200.000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// The longest single event (a text between tags, or one tag with its attributes) an XML part may have. Excel's
/// longest cell, 32,767 characters, is at most about 200 kB as escaped XML; calamine holds an event two or three
/// times over (its buffer, the unescaped text, the cell's string).
pub const MAX_XML_EVENT: u64 = 1 << 20;

/// Bytes calamine holds per entry of the shared-strings table besides the text: the `String` (24) in its vector
/// and the smallest heap block (32). Measured with calamine 0.38: 73 bytes per 36-character string, 25 per
/// empty one.
const SHARED_STRING_COST: u64 = 56;
/// Bytes per `xf` record of styles.xml: calamine builds a full `Style` (font, fill and borders cloned in) for
/// each. Measured 165 to 229 bytes; twice that leaves room for long font names.
const STYLE_COST: u64 = 512;
/// Bytes per font, fill, border or number format of styles.xml, kept while the styles are built (measured 69).
const STYLE_PART_COST: u64 = 128;
/// Bytes per element of the other parts read at opening (relationships, sheet list, defined names): each becomes
/// two or three short strings (measured 117 bytes per defined name).
const ELEMENT_COST: u64 = 128;

/// What one streaming pass over an XML part found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XmlScan {
    /// Uncompressed bytes read.
    pub bytes: u64,
    /// Start tags (elements).
    pub elements: u64,
    /// Bytes outside tags (text, and white space between elements).
    pub text: u64,
    /// The longest event: a text between two tags, or one tag, comment or CDATA section.
    pub longest_event: u64,
    /// Start tags per local name asked for, in the order asked.
    pub counts: Vec<u64>,
    /// The numbers in the attribute asked for, on the first start tag with the name asked for.
    pub attribute: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Text,
    /// Just after `<`.
    Open,
    /// The name of a start tag (`end` for `</name`).
    Name {
        end: bool,
    },
    Tag,
    Quote(u8),
    /// After `<!` (0) or `<!-` (1).
    Bang(u8),
    /// After `<!` and this many bytes of `[CDATA[`.
    CDataOpen(u8),
    Comment,
    CData,
    /// `<!DOCTYPE ...>`, with `[` nesting.
    Declaration(u32),
    /// `<? ... ?>`
    Instruction,
}

/// Streams XML as quick-xml would cut it into events, without buffering any event: counts start tags, text
/// bytes and the longest event, and stops early once an event is longer than `max_event`.
pub struct XmlScanner<'a> {
    state: State,
    event: u64,
    scan: XmlScan,
    max_event: u64,
    names: &'a [&'a str],
    capture: Option<(&'a str, &'a str)>,
    name: Vec<u8>,
    captured: Option<Vec<u8>>,
    /// The last two bytes of the current event, for `-->`, `]]>` and `?>` across chunk boundaries.
    tail: [u8; 2],
}

impl<'a> XmlScanner<'a> {
    /// `names`: local names of start tags to count; `capture`: (local name, attribute) whose number to report.
    pub fn new(names: &'a [&'a str], capture: Option<(&'a str, &'a str)>, max_event: u64) -> Self {
        XmlScanner {
            state: State::Text,
            event: 0,
            scan: XmlScan { counts: vec![0; names.len()], ..XmlScan::default() },
            max_event,
            names,
            capture,
            name: Vec::with_capacity(64),
            captured: None,
            tail: [0; 2],
        }
    }

    /// Whether an event was longer than allowed (scanning further is pointless).
    pub fn overlong(&self) -> bool {
        self.scan.longest_event.max(self.event) > self.max_event
    }

    pub fn finish(mut self) -> XmlScan {
        self.end_event();
        self.scan
    }

    fn end_event(&mut self) {
        self.scan.longest_event = self.scan.longest_event.max(self.event);
        self.event = 0;
        self.tail = [0; 2];
    }

    fn push_tail(&mut self, b: u8) {
        self.tail = [self.tail[1], b];
    }

    /// Closes the markup event at `>`.
    fn close_markup(&mut self) {
        if let Some(tag) = self.captured.take() {
            if self.scan.attribute.is_none() {
                self.scan.attribute = self.capture.and_then(|(_, attr)| attribute_number(&tag, attr));
            }
        }
        self.end_event();
        self.state = State::Text;
    }

    /// The name of a start tag is complete: count it, and capture the tag if its attribute is wanted.
    fn named(&mut self) {
        let local = match self.name.iter().rposition(|&b| b == b':') {
            Some(i) => &self.name[i + 1..],
            None => &self.name[..],
        };
        if let Some(i) = self.names.iter().position(|n| n.as_bytes() == local) {
            self.scan.counts[i] += 1;
        }
        if self.capture.is_some_and(|(n, _)| n.as_bytes() == local) && self.scan.attribute.is_none() {
            self.captured = Some(Vec::new());
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.scan.bytes += chunk.len() as u64;
        let mut i = 0;
        while i < chunk.len() {
            if self.overlong() {
                return;
            }
            let rest = &chunk[i..];
            match self.state {
                State::Text => match memchr::memchr(b'<', rest) {
                    Some(at) => {
                        self.event += at as u64;
                        self.scan.text += at as u64;
                        self.end_event();
                        self.event = 1;
                        self.state = State::Open;
                        i += at + 1;
                    }
                    None => {
                        self.event += rest.len() as u64;
                        self.scan.text += rest.len() as u64;
                        i = chunk.len();
                    }
                },
                State::Tag => match memchr::memchr3(b'>', b'"', b'\'', rest) {
                    Some(at) => {
                        self.event += at as u64 + 1;
                        if let Some(c) = &mut self.captured {
                            c.extend_from_slice(&rest[..=at]);
                        }
                        i += at + 1;
                        match rest[at] {
                            b'>' => self.close_markup(),
                            q => self.state = State::Quote(q),
                        }
                    }
                    None => {
                        self.event += rest.len() as u64;
                        if let Some(c) = &mut self.captured {
                            c.extend_from_slice(rest);
                        }
                        i = chunk.len();
                    }
                },
                State::Quote(q) => match memchr::memchr(q, rest) {
                    Some(at) => {
                        self.event += at as u64 + 1;
                        if let Some(c) = &mut self.captured {
                            c.extend_from_slice(&rest[..=at]);
                        }
                        i += at + 1;
                        self.state = State::Tag;
                    }
                    None => {
                        self.event += rest.len() as u64;
                        if let Some(c) = &mut self.captured {
                            c.extend_from_slice(rest);
                        }
                        i = chunk.len();
                    }
                },
                State::Comment | State::CData | State::Instruction => {
                    // Up to the next `>`; the event ends there if the two bytes before it close it.
                    let closing: &[u8; 2] = match self.state {
                        State::Comment => b"--",
                        State::CData => b"]]",
                        _ => b"??",
                    };
                    match memchr::memchr(b'>', rest) {
                        Some(at) => {
                            self.event += at as u64 + 1;
                            for &b in &rest[..at] {
                                self.push_tail(b);
                            }
                            i += at + 1;
                            let closes = match self.state {
                                State::Instruction => self.tail[1] == b'?',
                                _ => &self.tail == closing,
                            };
                            if closes {
                                self.close_markup();
                            } else {
                                self.push_tail(b'>');
                            }
                        }
                        None => {
                            self.event += rest.len() as u64;
                            for &b in rest.iter().rev().take(2).rev() {
                                self.push_tail(b);
                            }
                            i = chunk.len();
                        }
                    }
                }
                State::Open | State::Name { .. } | State::Bang(_) | State::CDataOpen(_) | State::Declaration(_) => {
                    let b = rest[0];
                    i += 1;
                    self.event += 1;
                    self.byte(b);
                }
            }
        }
    }

    /// The slow path, one byte at a time: the first bytes of a tag and the rare declarations.
    fn byte(&mut self, b: u8) {
        match self.state {
            // With no names to count nor a tag to capture (the sheet's pass: 62 MB of XML for a ledger of 100,000
            // lines), a tag's name needs no look: the tag scan finds its end as it finds the attributes' (a name
            // holds no quote nor `>`), a third faster than one byte at a time through the name.
            State::Open if self.names.is_empty() && self.capture.is_none() && !matches!(b, b'!' | b'?' | b'>') => {
                if b != b'/' {
                    self.scan.elements += 1;
                }
                self.state = State::Tag;
            }
            State::Open => match b {
                b'/' => {
                    self.name.clear();
                    self.state = State::Name { end: true };
                }
                b'!' => self.state = State::Bang(0),
                b'?' => self.state = State::Instruction,
                b'>' => self.close_markup(),
                _ => {
                    self.scan.elements += 1;
                    self.name.clear();
                    self.name.push(b);
                    self.state = State::Name { end: false };
                }
            },
            State::Name { end } => {
                if b.is_ascii_whitespace() || b == b'/' || b == b'>' {
                    if !end {
                        self.named();
                    }
                    if let Some(c) = &mut self.captured {
                        c.push(b);
                    }
                    if b == b'>' {
                        self.close_markup();
                    } else {
                        self.state = State::Tag;
                    }
                } else if self.name.len() < 64 {
                    self.name.push(b);
                }
            }
            // `<!--` opens a comment, `<![CDATA[` a CDATA section; anything else is a declaration.
            State::Bang(0) => match b {
                b'-' => self.state = State::Bang(1),
                b'[' => self.state = State::CDataOpen(1),
                _ => {
                    self.state = State::Declaration(0);
                    self.byte(b);
                }
            },
            State::Bang(_) => {
                if b == b'-' {
                    self.state = State::Comment;
                } else {
                    self.state = State::Declaration(0);
                    self.byte(b);
                }
            }
            State::CDataOpen(seen) => {
                const CDATA: &[u8] = b"[CDATA[";
                if CDATA[seen as usize] == b {
                    self.state =
                        if seen as usize + 1 == CDATA.len() { State::CData } else { State::CDataOpen(seen + 1) };
                } else {
                    // `<![` that is no CDATA: a section of a declaration, already one `[` deep.
                    self.state = State::Declaration(1);
                    self.byte(b);
                }
            }
            State::Declaration(depth) => match b {
                b'[' => self.state = State::Declaration(depth + 1),
                b']' => self.state = State::Declaration(depth.saturating_sub(1)),
                b'>' if depth == 0 => self.close_markup(),
                _ => {}
            },
            _ => unreachable!("fast states are handled in feed"),
        }
    }
}

/// The number in `attr="123"` within a captured tag, if any.
fn attribute_number(tag: &[u8], attr: &str) -> Option<u64> {
    let text = String::from_utf8_lossy(tag);
    let mut from = 0;
    while let Some(at) = text[from..].find(attr) {
        let start = from + at;
        from = start + attr.len();
        let before_ok = start == 0 || !text.as_bytes()[start - 1].is_ascii_alphanumeric();
        let rest = text[from..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else { continue };
        let rest = rest.trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
        let value = rest[1..].split(quote).next().unwrap_or("").trim().trim_start_matches('+');
        if before_ok {
            // A number too large for u64 is certainly too large for the budget.
            let digits = value.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                return Some(value[..digits].parse().unwrap_or(u64::MAX));
            }
        }
    }
    None
}

/// Streams `reader` through a scanner; a read error means the part is damaged (a cut-off or altered zip entry).
pub fn scan_xml(
    mut reader: impl Read,
    names: &[&str],
    capture: Option<(&str, &str)>,
    what: &str,
) -> Result<XmlScan, FileError> {
    let mut scanner = XmlScanner::new(names, capture, MAX_XML_EVENT);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(damaged(what)),
        };
        scanner.feed(&buf[..n]);
        if scanner.overlong() {
            break;
        }
    }
    let scan = scanner.finish();
    if scan.longest_event > MAX_XML_EVENT {
        return Err(FileError(format!(
            "{what} bevat een stuk tekst of opmaak van meer dan {} MB zonder onderbreking; een cel bevat hooguit \
             32.767 tekens, dus het bestand is beschadigd of gemanipuleerd. Sla het opnieuw op en probeer het opnieuw",
            mb(MAX_XML_EVENT)
        )));
    }
    Ok(scan)
}

fn damaged(what: &str) -> FileError {
    FileError(format!("{what} is beschadigd of onvolledig; sla de werkmap opnieuw op en probeer het opnieuw"))
}

/// A zip's entries by name as calamine finds them: back slashes as slashes, lower case, the last of duplicates.
fn entry_index(zip: &zip::ZipArchive<impl Read + Seek>) -> HashMap<String, usize> {
    let mut index = HashMap::with_capacity(zip.len());
    for i in 0..zip.len() {
        if let Some(Ok(name)) = zip.name_for_index(i) {
            index.insert(name.replace('\\', "/").to_ascii_lowercase(), i);
        }
    }
    index
}

/// A part calamine reads whole when it opens a workbook, and how to estimate what it holds of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    SharedStrings,
    Styles,
    Other,
}

/// Refuses an xlsx workbook whose parts would make calamine hold more than the budget, or whose XML has an
/// event longer than [`MAX_XML_EVENT`] where calamine would buffer it.
pub fn check_xlsx<R: Read + Seek>(file: R, budget: ReadBudget) -> Result<(), FileError> {
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|_| damaged("het zip-bestand"))?;
    let index = entry_index(&zip);
    // The package's relationships say where the workbook is (calamine: `read_package_relationships`).
    let (xl, workbook) = match index.get("_rels/.rels") {
        Some(&i) => office_document(&mut zip, i, budget)?,
        None => ("xl/".to_string(), "workbook.xml".to_string()),
    };
    let parts = [
        (format!("{xl}sharedstrings.xml"), Part::SharedStrings, "de gedeelde tekstentabel"),
        (format!("{xl}styles.xml"), Part::Styles, "de opmaaktabel"),
        (format!("{xl}theme/theme1.xml"), Part::Other, "het kleurenthema"),
        (format!("{xl}_rels/{workbook}.rels"), Part::Other, "de verwijzingentabel"),
        (format!("{xl}{workbook}"), Part::Other, "de werkmapbeschrijving"),
        ("_rels/.rels".to_string(), Part::Other, "de pakketbeschrijving"),
    ];
    let mut held: u64 = 0;
    let mut largest: Option<(u64, String)> = None;
    let mut read_at_open = Vec::new();
    for (path, part, label) in parts {
        let Some(&i) = index.get(&path.to_ascii_lowercase()) else { continue };
        if read_at_open.contains(&i) {
            continue;
        }
        read_at_open.push(i);
        let entry = zip.by_index(i).map_err(|_| damaged("het zip-bestand"))?;
        let what = format!("{label} ({})", short_name(&entry.name().unwrap_or_default()));
        let size = entry.size();
        if size > budget.bytes {
            return Err(budget.refuse(&what, format!("is {} MB uitgepakt", mb(size))));
        }
        let estimate = match part {
            Part::SharedStrings => {
                let s = scan_xml(entry, &["si"], Some(("sst", "uniqueCount")), &what)?;
                let strings = s.counts[0].max(s.attribute.unwrap_or(0));
                // calamine reserves room for the declared count before it reads one string.
                let needs = strings.saturating_mul(SHARED_STRING_COST).saturating_add(s.text);
                if needs > budget.bytes {
                    let (verb, aan) = if strings > s.counts[0] { ("kondigt", " aan") } else { ("bevat", "") };
                    let count = thousands(strings);
                    let needs =
                        format!("{verb} {count} teksten{aan} en vraagt daarmee ongeveer {} MB geheugen", mb(needs));
                    return Err(budget.refuse(&what, needs));
                }
                needs
            }
            Part::Styles => {
                let s = scan_xml(entry, &["xf", "font", "fill", "border", "numFmt"], None, &what)?;
                let parts: u64 = s.counts[1..].iter().sum();
                s.counts[0]
                    .saturating_mul(STYLE_COST)
                    .saturating_add(parts.saturating_mul(STYLE_PART_COST))
                    .saturating_add(s.bytes)
            }
            Part::Other => {
                let s = scan_xml(entry, &[], None, &what)?;
                s.elements.saturating_mul(ELEMENT_COST).saturating_add(s.bytes)
            }
        };
        held = held.saturating_add(estimate);
        if largest.as_ref().is_none_or(|(n, _)| estimate > *n) {
            largest = Some((estimate, what));
        }
    }
    if held > budget.bytes {
        let (n, what) = largest.expect("a part was measured");
        let whole = if mb(n) == mb(held) { String::new() } else { format!(" (de werkmap als geheel {} MB)", mb(held)) };
        return Err(budget.refuse(&what, format!("vraagt bij het openen ongeveer {} MB geheugen{whole}", mb(n))));
    }
    // Everything else is read, if at all, one event at a time (the sheet the template names): only an event
    // longer than calamine may buffer counts. In an entry of up to a quarter of the budget an event cannot cost
    // more than the budget even held three times over, so only larger ones (about 130,000 ledger lines and up)
    // take the extra pass (about 0.5 s per 1,000,000 lines).
    for i in 0..zip.len() {
        if read_at_open.contains(&i) {
            continue;
        }
        let entry = zip.by_index(i).map_err(|_| damaged("het zip-bestand"))?;
        if entry.size() <= budget.bytes / 4 || entry.is_dir() {
            continue;
        }
        let what = format!("het werkblad ({})", short_name(&entry.name().unwrap_or_default()));
        scan_xml(entry, &[], None, &what)?;
    }
    Ok(())
}

/// The name of an entry as the user may see it: at most 100 characters, no control characters.
fn short_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(100).collect()
}

/// The workbook's folder and file name from the package relationships, as calamine reads them.
fn office_document<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    i: usize,
    budget: ReadBudget,
) -> Result<(String, String), FileError> {
    let what = "de pakketbeschrijving (_rels/.rels)";
    let entry = zip.by_index(i).map_err(|_| damaged("het zip-bestand"))?;
    if entry.size() > budget.bytes {
        return Err(budget.refuse(what, format!("is {} MB uitgepakt", mb(entry.size()))));
    }
    scan_xml(entry, &[], None, what)?;
    // Now that no event is overlong, quick-xml may read it.
    let entry = zip.by_index(i).map_err(|_| damaged("het zip-bestand"))?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(entry));
    let mut buf = Vec::new();
    let mut target = None;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e))
                if e.local_name().as_ref() == "Relationship" =>
            {
                let attr = |name: &str| {
                    e.attributes().flatten().find(|a| a.key.as_ref() == name).map(|a| a.value.into_owned())
                };
                if attr("Type").is_some_and(|t| t.ends_with("/relationships/officeDocument")) {
                    target = attr("Target");
                }
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
    let target = target.unwrap_or_else(|| "xl/workbook.xml".to_string());
    let (dir, name) = match target.rfind('/') {
        Some(i) => target.split_at(i + 1),
        None => ("", target.as_str()),
    };
    let dir = dir.strip_prefix('/').unwrap_or(dir).to_string();
    let name = if name.is_empty() { "workbook.xml".to_string() } else { name.to_string() };
    Ok((dir, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(xml: &str, chunk: usize) -> XmlScan {
        scan_for(&["si", "xf"], Some(("sst", "uniqueCount")), xml, chunk)
    }

    fn scan_for(names: &[&str], capture: Option<(&str, &str)>, xml: &str, chunk: usize) -> XmlScan {
        let mut s = XmlScanner::new(names, capture, u64::MAX);
        for c in xml.as_bytes().chunks(chunk) {
            s.feed(c);
        }
        s.finish()
    }

    /// The pass that counts nothing skips looking at tag names; it measures the same events.
    #[test]
    fn the_scanner_measures_the_same_without_names_to_count() {
        let xml = "<?xml version=\"1.0\"?><!-- a > b --><sst count=\"3\" uniqueCount=\"4\"><si><t>één</t></si>\
                   <x:si a='>'/><![CDATA[ x > y ]]><!DOCTYPE d [<!ENTITY e \"f\">]><xf/></sst><a b=\"></c>\">t</a>";
        for chunk in [1, 2, 3, 7, 1000] {
            let named = scan(xml, chunk);
            let plain = scan_for(&[], None, xml, chunk);
            assert_eq!(
                (plain.bytes, plain.elements, plain.text, plain.longest_event),
                (named.bytes, named.elements, named.text, named.longest_event),
                "chunk {chunk}"
            );
            assert_eq!(plain.elements, 6, "sst, si, t, x:si, xf, a (chunk {chunk})");
            assert_eq!(plain.longest_event, "<sst count=\"3\" uniqueCount=\"4\">".len() as u64, "chunk {chunk}");
        }
    }

    #[test]
    fn the_scanner_cuts_events_as_an_xml_reader_does_whatever_the_chunks() {
        let xml = "<?xml version=\"1.0\"?><!-- a > b --><sst count=\"3\" uniqueCount=\"4\"><si><t>één</t></si>\
                   <x:si a='>'/><![CDATA[ x > y ]]><!DOCTYPE d [<!ENTITY e \"f\">]><xf/></sst>";
        for chunk in [1, 2, 3, 7, 1000] {
            let s = scan(xml, chunk);
            assert_eq!(s.counts, vec![2, 1], "chunk {chunk}");
            assert_eq!(s.attribute, Some(4), "chunk {chunk}");
            assert_eq!(s.elements, 5, "sst, si, t, x:si, xf (chunk {chunk})");
            assert_eq!(s.text, "één".len() as u64, "chunk {chunk}");
            // The longest event is the tag of sst (46 bytes), not the comment (16) nor the CDATA section (21).
            assert_eq!(s.longest_event, "<sst count=\"3\" uniqueCount=\"4\">".len() as u64, "chunk {chunk}");
        }
        let long = format!("<a>{}</a>", "x>".repeat(1000));
        assert_eq!(scan(&long, 5).longest_event, 2000, "a '>' in text does not end it: text runs to the next '<'");
        let cdata = format!("<a><![CDATA[{}]]></a>", "x>".repeat(1000));
        assert_eq!(scan(&cdata, 5).longest_event, 2012, "a CDATA section is one event, '>' inside or not");
        let quoted = format!("<a b=\"{}\"/>", ">".repeat(500));
        assert_eq!(scan(&quoted, 3).longest_event, 509, "a '>' inside a quoted attribute does not end the tag");
    }

    #[test]
    fn numbers_are_shown_the_dutch_way() {
        assert_eq!(thousands(1_200_000), "1.200.000");
        assert_eq!(thousands(999), "999");
        assert_eq!(mb(1_040 << 20), "1.040");
        assert_eq!(mb(1), "1");
        assert_eq!(attribute_number(b"<sst uniqueCount = '12' count=\"3\">", "uniqueCount"), Some(12));
        assert_eq!(attribute_number(b"<sst xuniqueCount=\"5\" uniqueCount=\"7\">", "uniqueCount"), Some(7));
        assert_eq!(attribute_number(b"<sst uniqueCount=\"99999999999999999999999\">", "uniqueCount"), Some(u64::MAX));
    }
}
