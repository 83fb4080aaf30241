//! Two runs on one scrubber (issue 17's "fork and diff" and synchronised side by side): a
//! second session — a variation of this run, or the run before its fork — kept at the same
//! virtual time as the one on screen, and the record-by-record difference between the two:
//! which acknowledged records survive in each.

use std::cell::RefCell;
use std::collections::BTreeMap;

use rill_core::protocol::TopicPartition;
use rill_core::sim::session::Session;
use rill_core::sim::spec::Snapshot;
use rill_core::sim::trace::TraceKind;

use super::RECORDS_PER_REPLICA;

/// Diff rows shown (the counts cover every record).
pub const DIFF_ROWS_MAX: usize = 40;

/// The second run and what it looks like now.
#[derive(Debug)]
pub struct Twin {
    /// What the second run is, in words.
    pub label: String,
    session: RefCell<Session>,
}

/// What became of one record a producer sent, as one run has it so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Not sent or not answered yet (or sent with acks=0: the producer is never told).
    Pending,
    /// Acknowledged at this offset and still there.
    Kept(TopicPartition, i64),
    /// Acknowledged at this offset, then lost.
    Lost(TopicPartition, i64),
    /// The producer gave up on it with this error.
    Failed(String),
}

impl Fate {
    /// Plain words.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Fate::Pending => "not acknowledged (yet)".to_owned(),
            Fate::Kept(tp, offset) => format!("kept at {tp} offset {offset}"),
            Fate::Lost(tp, offset) => format!("LOST: was acknowledged at {tp} offset {offset}"),
            Fate::Failed(error) => format!("failed: {error}"),
        }
    }

    /// Acknowledged, whether kept or lost.
    #[must_use]
    pub fn acknowledged(&self) -> bool {
        matches!(self, Fate::Kept(..) | Fate::Lost(..))
    }
}

/// One record whose fate differs between the two runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    /// Producer client number.
    pub client: u32,
    /// The producer's record number.
    pub send_id: u64,
    /// In the run on screen.
    pub here: Fate,
    /// In the second run.
    pub there: Fate,
}

/// The two runs compared record by record, at the same virtual time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Records acknowledged: (here, there).
    pub acknowledged: (usize, usize),
    /// Acknowledged records lost: (here, there).
    pub lost: (usize, usize),
    /// Records acknowledged in both runs and kept in both.
    pub kept_in_both: usize,
    /// Records whose fates differ (at most [`DIFF_ROWS_MAX`], losses first).
    pub rows: Vec<DiffRow>,
    /// How many records differ in all.
    pub differing: usize,
}

/// What the twin panel draws.
#[derive(Clone, Debug, PartialEq)]
pub struct TwinView {
    /// What the second run is.
    pub label: String,
    /// The second run at this virtual time.
    pub snapshot: Snapshot,
    /// The record-by-record difference.
    pub diff: Diff,
}

impl Twin {
    /// A second run, put at `at_ms`.
    pub(super) fn new(label: String, session: Session, at_ms: u64) -> rill_core::error::Result<Twin> {
        let twin = Twin { label, session: RefCell::new(session) };
        seek_session_time(&mut twin.session.borrow_mut(), at_ms)?;
        Ok(twin)
    }

    /// Moves the second run to `at_ms` (forward by running, back by replaying) and compares it
    /// with `here`.
    pub(super) fn view_at(&self, here: &Session) -> rill_core::error::Result<TwinView> {
        let mut session = self.session.borrow_mut();
        seek_session_time(&mut session, here.sim().now_ms())?;
        Ok(TwinView {
            label: self.label.clone(),
            snapshot: session.sim().snapshot_with(RECORDS_PER_REPLICA),
            diff: diff(here, &session),
        })
    }
}

/// Puts `session` at virtual time `at_ms`: back by replaying from the start, forward by running
/// (recorded actions included), the clock at `at_ms` exactly. `true` when it went back.
pub(super) fn seek_session_time(session: &mut Session, at_ms: u64) -> rill_core::error::Result<bool> {
    let back = at_ms < session.sim().now_ms();
    if back {
        session.seek(0)?;
    }
    let now_ms = session.sim().now_ms();
    session.run_for(at_ms - now_ms.min(at_ms))?;
    Ok(back)
}

/// Every record's fate in one run so far, by (producer, record number), from its trace and its
/// checker's lost writes.
#[must_use]
pub(super) fn fates(session: &Session) -> BTreeMap<(u32, u64), Fate> {
    let mut fates = BTreeMap::new();
    // Acknowledgements in the order given, per (partition, offset): a lost write is the
    // earliest one there not yet matched with a loss (a later write may reuse its offset).
    let mut acked_at: BTreeMap<(TopicPartition, i64), Vec<(u32, u64)>> = BTreeMap::new();
    for event in session.sim().trace() {
        if let TraceKind::Produced { client, send_id, tp, result, .. } = &event.kind {
            let fate = match (tp, result) {
                (Some(tp), Ok(offset)) if *offset >= 0 => {
                    acked_at.entry((tp.clone(), *offset)).or_default().push((*client, *send_id));
                    Fate::Kept(tp.clone(), *offset)
                }
                (_, Ok(_)) => Fate::Pending,
                (_, Err(error)) => Fate::Failed(error.to_string()),
            };
            fates.insert((*client, *send_id), fate);
        }
    }
    for lost in &session.sim().report().lost_writes {
        let at = (TopicPartition::new(&lost.topic, lost.partition), lost.offset);
        let Some(records) = acked_at.get_mut(&at) else { continue };
        if records.is_empty() {
            continue;
        }
        let record = records.remove(0);
        fates.insert(record, Fate::Lost(at.0, at.1));
    }
    fates
}

/// `here` and `there` record by record.
#[must_use]
pub(super) fn diff(here: &Session, there: &Session) -> Diff {
    let (a, b) = (fates(here), fates(there));
    let count =
        |fates: &BTreeMap<(u32, u64), Fate>, what: fn(&Fate) -> bool| fates.values().filter(|f| what(f)).count();
    let mut diff = Diff {
        acknowledged: (count(&a, Fate::acknowledged), count(&b, Fate::acknowledged)),
        lost: (count(&a, |f| matches!(f, Fate::Lost(..))), count(&b, |f| matches!(f, Fate::Lost(..)))),
        ..Diff::default()
    };
    let mut rows = Vec::new();
    let keys: std::collections::BTreeSet<(u32, u64)> = a.keys().chain(b.keys()).copied().collect();
    for key in keys {
        let here = a.get(&key).cloned().unwrap_or(Fate::Pending);
        let there = b.get(&key).cloned().unwrap_or(Fate::Pending);
        if matches!((&here, &there), (Fate::Kept(..), Fate::Kept(..))) {
            diff.kept_in_both += 1;
        }
        // The same fate, or kept in both (at offsets that may differ): nothing to show.
        if here == there || matches!((&here, &there), (Fate::Kept(..), Fate::Kept(..))) {
            continue;
        }
        rows.push(DiffRow { client: key.0, send_id: key.1, here, there });
    }
    diff.differing = rows.len();
    // Losses first: they are the lesson.
    rows.sort_by_key(|row| {
        (!matches!(row.here, Fate::Lost(..)) && !matches!(row.there, Fate::Lost(..)), row.client, row.send_id)
    });
    rows.truncate(DIFF_ROWS_MAX);
    diff.rows = rows;
    diff
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use rill_core::sim::session::Action as SimAction;
    use rill_core::sim::Fault;

    use super::super::{Action, State, Variation};
    use super::Fate;
    use yew::Reducible;

    fn acks_1_scenario() -> Rc<State> {
        Rc::new(State::initial()).reduce(Action::LoadScenario("acks1-leader-crash"))
    }

    #[test]
    fn a_variation_plays_on_the_same_scrubber_and_the_diff_names_the_records_only_one_run_lost() {
        let acks_all = Variation { acks: Some(-1), min_insync_replicas: Some(2), ..Variation::default() };
        let mut state = acks_1_scenario().reduce(Action::Twin(Some(acks_all)));
        assert!(state.error.is_none(), "{:?}", state.error);
        state = state.reduce(Action::SeekTime(29_000));
        let twin = state.twin_view.clone().expect("a second run");
        assert_eq!(twin.snapshot.now_ms, state.now_ms(), "one scrubber");
        assert!(twin.diff.lost.0 >= 15 && twin.diff.lost.1 == 0, "{:?}", twin.diff);
        assert!(twin.diff.acknowledged.1 > 0, "{:?}", twin.diff);
        let lost_here_only = twin
            .diff
            .rows
            .iter()
            .filter(|row| matches!(row.here, Fate::Lost(..)) && !matches!(row.there, Fate::Lost(..)))
            .count();
        assert!(lost_here_only >= 15, "record by record: {:?}", twin.diff.rows);
        // Back to before the crash: both runs are there, nothing lost in either.
        state = state.reduce(Action::SeekTime(3_000));
        let twin = state.twin_view.clone().unwrap();
        assert_eq!((twin.snapshot.now_ms, state.now_ms()), (3_000, 3_000));
        assert_eq!(twin.diff.lost, (0, 0));
        state = state.reduce(Action::CloseTwin);
        assert!(state.twin_view.is_none());
    }

    #[test]
    fn a_fork_diffs_against_the_run_before_it() {
        let mut state = acks_1_scenario().reduce(Action::SeekTime(3_000));
        // Heal the cut links in the past: a fork in which broker 1 never crashes.
        state = state.reduce(Action::Do(SimAction::Fault(Fault::HealNetwork)));
        assert!(state.fork.is_some());
        state = state.reduce(Action::Twin(None)).reduce(Action::SeekTime(29_000));
        let twin = state.twin_view.clone().expect("the run before the fork");
        assert!(twin.label.contains("before the fork"), "{}", twin.label);
        assert_eq!(twin.snapshot.now_ms, state.now_ms());
        assert_eq!(twin.diff.lost.0, 0, "the fork lost nothing: {:?}", twin.diff);
        assert!(twin.diff.lost.1 >= 15, "the run before it did: {:?}", twin.diff);
        // Not a fork: there is nothing to diff against.
        let state = acks_1_scenario().reduce(Action::Twin(None));
        assert!(state.error.as_deref().unwrap_or("").contains("not a fork"), "{:?}", state.error);
    }
}
