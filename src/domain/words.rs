//! Dutch words that depend on a number: "1 contract", "2 contracten". One helper, so no screen says
//! "1 contracten".

/// `n` with the singular or plural noun: `count(1, "contract", "contracten")` is "1 contract".
pub fn count<N: Copy + TryInto<i64> + std::fmt::Display>(n: N, one: &str, many: &str) -> String {
    format!("{n} {}", noun(n, one, many))
}

/// The noun alone, for when the number is shown separately (for example in bold).
pub fn noun<'a, N: TryInto<i64>>(n: N, one: &'a str, many: &'a str) -> &'a str {
    if n.try_into().ok() == Some(1) {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(count(1, "optiebesluit", "optiebesluiten"), "1 optiebesluit");
        assert_eq!(count(0, "contract", "contracten"), "0 contracten");
        assert_eq!(count(2, "contract", "contracten"), "2 contracten");
        assert_eq!(count(-1, "dag", "dagen"), "-1 dagen");
        assert_eq!(noun(1_usize, "importbatch", "importbatches"), "importbatch");
        assert_eq!(count(3_u32, "regel", "regels"), "3 regels");
    }
}
