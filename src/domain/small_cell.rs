//! The small-cell rule of municipal statistics: a figure about fewer than 5 participants is not shown to
//! someone who may see aggregates only (the policy adviser); "minder dan 5" takes its place. Every screen and
//! export that shows such a figure asks here.

/// The smallest group whose figures an aggregates-only viewer may see.
pub const MIN_GROUP: u32 = 5;

/// What is shown instead of a figure about a smaller group.
pub const HIDDEN: &str = "minder dan 5";

/// Who the rule applies to, and whether it hides a figure: one value per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmallCells {
    applies: bool,
}

impl SmallCells {
    /// `aggregates_only`: the viewer may not read participant-level data (the web asks the role).
    pub fn new(aggregates_only: bool) -> SmallCells {
        SmallCells { applies: aggregates_only }
    }

    /// Whether the rule is in force for this viewer at all.
    pub fn applies(self) -> bool {
        self.applies
    }

    /// True when a figure about this many participants must not be shown: 1 to 4 of them (a group of none
    /// reveals nobody).
    pub fn hides(self, participants: u32) -> bool {
        self.applies && (1..MIN_GROUP).contains(&participants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_of_four_is_hidden_from_the_policy_adviser_and_a_group_of_five_is_not() {
        let adviser = SmallCells::new(true);
        assert!(adviser.hides(4) && adviser.hides(1));
        assert!(!adviser.hides(5));
        assert!(!adviser.hides(0), "a group of none reveals no one");
        assert!(!SmallCells::new(false).hides(4), "who may read participants sees every figure");
    }
}
