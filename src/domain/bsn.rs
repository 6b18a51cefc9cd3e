//! Recognising a BSN (citizen service number) so imports can refuse it: taalbudget keeps client numbers only.

/// The message every refusal shows.
pub const REFUSAL: &str =
    "deze waarde lijkt een BSN (9 cijfers die de elfproef doorstaan); taalbudget slaat geen BSN op, \
     gebruik het cliëntnummer van de gemeente";

/// True for 9 digits (8 with an implied leading zero are not accepted as text) passing the 11-test:
/// 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is divisible by 11 and not zero.
pub fn looks_like_bsn(text: &str) -> bool {
    let digits: Vec<u32> =
        text.trim().chars().filter(|c| *c != ' ' && *c != '.' && *c != '-').map_while(|c| c.to_digit(10)).collect();
    let clean = text.trim().chars().filter(|c| *c != ' ' && *c != '.' && *c != '-').count();
    if digits.len() != 9 || clean != 9 {
        return false;
    }
    let sum: i64 =
        digits.iter().enumerate().map(|(i, d)| if i == 8 { -(*d as i64) } else { (9 - i as i64) * *d as i64 }).sum();
    sum != 0 && sum % 11 == 0
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
        assert!(!looks_like_bsn("12345678"));
        assert!(!looks_like_bsn("1234567820"));
        assert!(!looks_like_bsn("000000000"));
        assert!(!looks_like_bsn("K12345678"));
    }
}
