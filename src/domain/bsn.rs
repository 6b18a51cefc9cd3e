//! Recognising a BSN (citizen service number) so nothing stores one: taalbudget keeps client numbers only.
//! A BSN is 9 digits passing the 11-test; one with its leading zero dropped (8 digits, as a spreadsheet's
//! number cell keeps it) counts too. Free text is searched for the ways people write one.

/// The message every import refusal shows.
pub const REFUSAL: &str =
    "deze waarde lijkt een BSN (9 cijfers die de elfproef doorstaan); taalbudget slaat geen BSN op, \
     gebruik het cliëntnummer van de gemeente";

/// The 11-test on 9 digits: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is divisible by 11 and not zero.
fn eleven_test(digits: &[u32; 9]) -> bool {
    let sum: i64 =
        digits.iter().enumerate().map(|(i, d)| if i == 8 { -(*d as i64) } else { (9 - i as i64) * *d as i64 }).sum();
    sum != 0 && sum % 11 == 0
}

/// 9 digits, or 8 with the leading zero a number cell drops, that pass the 11-test.
fn is_bsn_digits(digits: &[u32]) -> bool {
    let mut nine = [0u32; 9];
    match digits.len() {
        9 => nine.copy_from_slice(digits),
        8 => nine[1..].copy_from_slice(digits),
        _ => return false,
    }
    eleven_test(&nine)
}

/// True when the whole value is a BSN: 9 digits passing the 11-test, spaces, dots and dashes between them
/// ignored (`1234.56.782`), or 8 plain digits that pass with an implied leading zero (what a number cell
/// keeps of `012345672`; `2022-0042` is a code, not a number cell).
pub fn looks_like_bsn(text: &str) -> bool {
    let mut digits = Vec::with_capacity(9);
    let mut separated = false;
    for c in text.trim().chars() {
        match c.to_digit(10) {
            Some(d) if digits.len() < 10 => digits.push(d),
            Some(_) => return false,
            None if matches!(c, ' ' | '.' | '-') => separated = true,
            None => return false,
        }
    }
    (digits.len() == 9 || !separated) && is_bsn_digits(&digits)
}

/// The numbers in a text, as their digit groups: digits joined by single dots or dashes form one number
/// (`1234.56.782`, `12-03-2023`); a space separates numbers.
fn numbers(text: &str) -> Vec<Vec<Vec<u32>>> {
    let mut out: Vec<Vec<Vec<u32>>> = Vec::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut group: Vec<u32> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(d) = c.to_digit(10) {
            group.push(d);
            continue;
        }
        let joins = matches!(c, '.' | '-') && !group.is_empty() && chars.peek().is_some_and(char::is_ascii_digit);
        if !group.is_empty() {
            groups.push(std::mem::take(&mut group));
        }
        if !joins && !groups.is_empty() {
            out.push(std::mem::take(&mut groups));
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    if !groups.is_empty() {
        out.push(groups);
    }
    out
}

/// True when free text holds a 9-digit number passing the 11-test, written as people write a BSN: `123456782`,
/// `1234.56.782`, `123-456-782` (one number of 9 digits in all), or `123 456 782` / `1234 56 782` (three
/// numbers in a row). Dates, amounts and longer numbers (phone, IBAN) are not.
pub fn contains_bsn(text: &str) -> bool {
    let numbers = numbers(text);
    let digits = |groups: &[Vec<u32>]| groups.concat();
    if numbers.iter().any(|n| is_nine(&digits(n))) {
        return true;
    }
    // Space-separated groups: only plain numbers (one group each), laid out 3-3-3 or 4-2-3.
    numbers.windows(3).any(|w| {
        let lens: Vec<usize> = w.iter().map(|n| if n.len() == 1 { n[0].len() } else { 0 }).collect();
        (lens == [3, 3, 3] || lens == [4, 2, 3]) && is_nine(&w.iter().flat_map(|n| n.concat()).collect::<Vec<_>>())
    })
}

fn is_nine(digits: &[u32]) -> bool {
    digits.len() == 9 && is_bsn_digits(digits)
}

/// True when a client number is or holds a BSN: the whole value (also 8 digits, a BSN without its leading
/// zero), a 9-digit number inside it (`K111222333`, `K-1234.56.782`), or a run of 8 digits inside it that
/// passes with an implied leading zero.
pub fn client_number_holds_bsn(text: &str) -> bool {
    looks_like_bsn(text)
        || contains_bsn(text)
        || numbers(text).iter().flatten().any(|group| group.len() == 8 && is_bsn_digits(group))
}

/// What replaces a labelled BSN (label and number) in an imported text.
pub const MASK: &str = "[BSN verwijderd]";

/// The words that label a number as a BSN, lower case.
const LABELS: [&str; 3] = ["burgerservicenummer", "sofinummer", "bsn"];

/// Masks every number labelled as a BSN (`BSN`, `burgerservicenummer` or `sofinummer`, any case, then
/// optionally `-nummer`/`nr`, a `:` and spaces): label and number become [`MASK`]. The number is masked whether
/// or not it passes the 11-test (a mistyped BSN is still one); numbers without such a label (invoice,
/// document) are left alone. None when there was nothing to mask.
pub fn mask_labelled(text: &str) -> Option<String> {
    // Runs for every imported ledger line: most descriptions have no label, and leave here without allocating.
    let bytes = text.as_bytes();
    let has_label = |at: usize| {
        LABELS.iter().find(|l| bytes[at..].get(..l.len()).is_some_and(|w| w.eq_ignore_ascii_case(l.as_bytes())))
    };
    // `| 0x20` lower-cases an ASCII letter: only a `b` or an `s` can start a label.
    if !(0..bytes.len()).any(|i| matches!(bytes[i] | 0x20, b'b' | b's') && has_label(i).is_some()) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut masked = false;
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if let Some(label) = has_label(i).filter(|_| starts_word) {
            if let Some(end) = labelled_number_end(bytes, i + label.len()) {
                out.push_str(MASK);
                masked = true;
                i = end;
                continue;
            }
        }
        // Copy one whole character (labels and digits are ASCII, so a multi-byte one is never part of them).
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    masked.then_some(out)
}

/// Where the number after a label ends: past `-nummer`/`nummer`/`nr`/`nr.`, a `:` and spaces, then up to 9
/// digits with single spaces, dots or dashes between them. None when no number follows the label directly.
fn labelled_number_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    let skip = |i: &mut usize, word: &[u8]| {
        if bytes[*i..].get(..word.len()).is_some_and(|w| w.eq_ignore_ascii_case(word)) {
            *i += word.len();
        }
    };
    skip(&mut i, b"-");
    skip(&mut i, b" ");
    for word in [&b"nummer"[..], b"nr."] {
        skip(&mut i, word);
    }
    skip(&mut i, b"nr");
    while bytes.get(i).is_some_and(|b| matches!(b, b' ' | b':' | b'.')) {
        i += 1;
    }
    let mut digits = 0;
    let mut end = None;
    while let Some(b) = bytes.get(i) {
        if b.is_ascii_digit() && digits < 9 {
            digits += 1;
            i += 1;
            end = Some(i);
        } else if matches!(b, b' ' | b'.' | b'-') && end == Some(i) && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            i += 1;
        } else {
            break;
        }
    }
    // A number that runs on past 9 digits is not a BSN (an account number): leave it.
    end.filter(|e| !bytes.get(*e).is_some_and(u8::is_ascii_digit))
}

/// The Dutch message for a free-text form field that holds a BSN.
pub fn free_text_refusal(label: &str) -> String {
    format!(
        "{label} bevat een nummer dat een BSN lijkt (9 cijfers die de elfproef doorstaan). \
         taalbudget bewaart geen BSN: laat het nummer weg of gebruik het klantnummer van de gemeente."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_test_recognises_bsn_like_numbers_only() {
        assert!(looks_like_bsn("111222333"));
        assert!(looks_like_bsn("123456782"));
        assert!(looks_like_bsn(" 1234.56.782 "));
        assert!(!looks_like_bsn("123456789"));
        assert!(!looks_like_bsn("1234567820"));
        assert!(!looks_like_bsn("000000000"));
        assert!(!looks_like_bsn("00000000"));
        assert!(!looks_like_bsn("K12345678"));
    }

    #[test]
    fn eight_digits_are_a_bsn_whose_leading_zero_was_dropped() {
        // 012345672: 0*9 + 1*8 + 2*7 + 3*6 + 4*5 + 5*4 + 6*3 + 7*2 - 2 = 110 = 10 * 11.
        assert!(looks_like_bsn("12345672"));
        assert!(looks_like_bsn("012345672"));
        // 012345678: 110 - 8 + 2 = 104, not a multiple of 11.
        assert!(!looks_like_bsn("12345678"));
        assert!(!looks_like_bsn("1234567"));
        // With separators it is a code: 2022-0042 would pass as 020220042.
        assert!(!looks_like_bsn("2022-0042"));
    }

    #[test]
    fn a_client_number_holding_a_bsn_is_recognised() {
        assert!(client_number_holds_bsn("12345672"));
        assert!(client_number_holds_bsn("K111222333"));
        assert!(client_number_holds_bsn("K-111222333-A"));
        assert!(client_number_holds_bsn("K-1234.56.782"));
        assert!(client_number_holds_bsn("KL12345672"));
        // The demo's and the tests' client numbers are not.
        for ok in ["K100000", "K-2022-0042", "K-12345", "K12345678", "K1112223334"] {
            assert!(!client_number_holds_bsn(ok), "{ok}");
        }
    }

    #[test]
    fn free_text_holds_a_bsn_however_it_is_written() {
        for text in [
            "BSN 123456782 gemeld",
            "bsn:111222333.",
            "nummer 1234.56.782 bij intake",
            "123-456-782",
            "in 2023 123 456 782 opgegeven",
            "1234 56 782",
            "K111222333",
        ] {
            assert!(contains_bsn(text), "{text}");
        }
        for text in [
            "Afwezig op 12-03-2023 wegens ziekte",
            "Factuur 2023-0001 van € 1.234.567,82",
            "Bel 06-12345678 of +31 6 1234 5678",
            "IBAN NL91ABNA0417164300",
            "123456789 is geen BSN",
            "1.234.567.890",
            "12345672",
            "groep 2 met 12 deelnemers, 3 uur",
        ] {
            assert!(!contains_bsn(text), "{text}");
        }
    }

    #[test]
    fn a_number_labelled_as_a_bsn_is_masked_and_other_numbers_are_not() {
        let m = |t: &str| mask_labelled(t);
        assert_eq!(
            m("Cursus BSN: 123456782 factuur F-2023-001").as_deref(),
            Some("Cursus [BSN verwijderd] factuur F-2023-001")
        );
        assert_eq!(m("bsn 1234.56.782").as_deref(), Some("[BSN verwijderd]"));
        assert_eq!(
            m("Burgerservicenummer:123 456 782, boekstuk 4711").as_deref(),
            Some("[BSN verwijderd], boekstuk 4711")
        );
        assert_eq!(m("SOFINUMMER 12345672 (zonder nul)").as_deref(), Some("[BSN verwijderd] (zonder nul)"));
        assert_eq!(
            m("BSN-nummer: 123456789 en bsn nr. 111222333").as_deref(),
            Some("[BSN verwijderd] en [BSN verwijderd]")
        );
        // Unlabelled numbers, a label without a number, a label inside a word and a longer number stay.
        assert_eq!(m("Factuur 123456782 boekstuk 111222333"), None);
        assert_eq!(m("BSN onbekend, zie dossier 2023-17"), None);
        assert_eq!(m("ABSN 123456782"), None);
        assert_eq!(m("BSN 1234567890123"), None);
        assert_eq!(m("Taalcursus ëëë bsn: 123456782 ü"), Some("Taalcursus ëëë [BSN verwijderd] ü".into()));
    }
}
