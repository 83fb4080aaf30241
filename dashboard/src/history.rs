//! A run's client history for Jepsen's checkers: what the dashboard says about it.

use std::fmt::Write as _;

use rill_core::sim::history::{History, Mop, OpType};

/// What a history holds and what Jepsen's lost-write rule finds in it.
pub fn summary(history: &History) -> String {
    let ops = history.ops();
    let sends = ops.iter().filter(|op| op.op_type == OpType::Invoke && matches!(op.mop, Mop::Send { .. })).count();
    let polls = ops.iter().filter(|op| op.op_type == OpType::Ok && matches!(op.mop, Mop::Poll(_))).count();
    let mut text = format!("{} operations: {sends} sends, {polls} polls. ", ops.len());
    let lost = history.lost_writes();
    if lost.is_empty() && polls == 0 {
        text.push_str(
            "Jepsen's lost-write rule needs polls past a write to call it lost: add a consumer (Consumer groups) \
             and export again.",
        );
        return text;
    }
    let _ = write!(
        text,
        "Jepsen's lost-write rule (an acknowledged send at an offset some poll read past, never read itself) finds {}",
        lost.len()
    );
    // Offset runs per key: "orders-0 offsets 10–29".
    let mut runs: Vec<(String, i64, i64)> = Vec::new();
    for (key, offset, _) in lost {
        match runs.last_mut() {
            Some((last_key, _, last)) if *last_key == key && *last + 1 == offset => *last = offset,
            _ => runs.push((key, offset, offset)),
        }
    }
    let runs: Vec<String> =
        runs.iter()
            .map(|(key, first, last)| {
                if first == last {
                    format!("{key} offset {first}")
                } else {
                    format!("{key} offsets {first}–{last}")
                }
            })
            .collect();
    if runs.is_empty() {
        text.push_str(" (a write counts as lost only once a poll reads past it)");
    } else {
        let _ = write!(text, ": {}", runs.join(", "));
    }
    text.push('.');
    text
}
