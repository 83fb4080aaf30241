//! "When did the loss become inevitable?" For a lost acknowledged write, replay the run up to
//! an event, heal every fault there (restart, resume, reconnect — what `Sim::finish` does),
//! let it settle and ask whether the write survived. Healing right after the write was
//! acknowledged keeps it; healing after the loss was seen does not: a binary search between
//! the two finds the earliest event after which nothing could have saved it. Pure: tested
//! natively.

use rill_core::sim::checker::LostWrite;
use rill_core::sim::session::{Recording, Session};
use rill_core::sim::Sim;

use crate::state::SETTLE_MS;

/// The point of no return of one lost write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoReturn {
    /// The write (as the live check listed it).
    pub write: LostWrite,
    /// Healing after `event - 1` events keeps the write; after `event`, it is gone.
    pub event: u64,
    /// Virtual time of that event.
    pub time_ms: u64,
    /// What happened at that event, in plain words (trace lines).
    pub what: Vec<String>,
    /// Replays it took.
    pub probes: u32,
}

/// The run of `recording` healed after `event` events: did `write` survive?
fn survives(recording: &Recording, write: &LostWrite, event: u64) -> Result<bool, String> {
    let cut = Recording {
        spec: recording.spec.clone(),
        steps: recording.steps.iter().filter(|step| step.at_event <= event).cloned().collect(),
        until_event: event,
        until_ms: 0,
    };
    let session = Session::replay(cut).map_err(|error| error.to_string())?;
    let sim = session.into_finished(SETTLE_MS);
    let tp = Sim::tp(&write.topic, write.partition);
    // Not acknowledged at all in this replay (it was still in flight): it cannot be lost.
    Ok(sim.write_survived(&tp, write.offset, write.fingerprint).unwrap_or(true))
}

/// Finds the point of no return of `write` in the run `recording` (its whole recording).
pub fn point_of_no_return(recording: &Recording, write: &LostWrite) -> Result<NoReturn, String> {
    if !write.landed {
        return Err(format!(
            "INVALID_REQUEST: this acks=0 send never reached a log ({}): it was lost when it was sent",
            write.cause.as_deref().unwrap_or("no cause recorded")
        ));
    }
    let (mut saved, mut lost) = (write.acked_event, write.found_event.max(write.acked_event));
    let mut probes = 0;
    let mut probe = |event: u64| {
        probes += 1;
        survives(recording, write, event)
    };
    if !probe(lost)? {
        if probe(saved)? {
            while lost - saved > 1 {
                let middle = saved + (lost - saved) / 2;
                if probe(middle)? {
                    saved = middle;
                } else {
                    lost = middle;
                }
            }
        } else {
            // Even healing as it was acknowledged loses it: inevitable from the start.
            lost = saved;
        }
    } else {
        return Err("healing every fault when the loss was found still keeps this write: no point of no return \
                    before it (a later fault lost it)"
            .to_owned());
    }
    let (time_ms, what) = describe(recording, lost)?;
    Ok(NoReturn { write: write.clone(), event: lost, time_ms, what, probes })
}

/// The trace lines of the `event`-th event (and the recorded actions applied with it).
fn describe(recording: &Recording, event: u64) -> Result<(u64, Vec<String>), String> {
    let before = Recording {
        spec: recording.spec.clone(),
        steps: recording.steps.clone(),
        until_event: event.saturating_sub(1),
        until_ms: 0,
    };
    let mut session = Session::at_start(before.clone()).map_err(|error| error.to_string())?;
    session.seek(before.until_event).map_err(|error| error.to_string())?;
    let from = session.sim().trace().last().map_or(0, |last| last.index + 1);
    if event > 0 {
        session.step().map_err(|error| error.to_string())?;
    }
    let mut what: Vec<String> = session
        .sim()
        .trace()
        .iter()
        .filter(|line| line.index >= from)
        .map(|line| {
            let text = line.to_string();
            text.split_once("ms ").map_or(text.clone(), |(_, rest)| rest.to_owned())
        })
        .collect();
    // A recorded fault applied at this point is the likelier culprit: name it first.
    what.sort_by_key(|line| !line.starts_with("fault: "));
    Ok((session.sim().now_ms(), what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios;

    #[test]
    fn the_acks_1_losses_become_inevitable_between_the_ack_and_the_new_leader() {
        let recording = scenarios::SCENARIOS[0].recording().unwrap();
        let live = Session::replay(recording.clone()).unwrap().sim().report().clone();
        let write = live.lost_writes.iter().find(|w| w.landed).expect("acks=1 loses writes").clone();
        let found = point_of_no_return(&recording, &write).unwrap();
        assert!(write.acked_event < found.event && found.event <= write.found_event, "{found:?}");
        // By construction: healing one event earlier keeps it, at the event loses it.
        assert!(survives(&recording, &write, found.event - 1).unwrap());
        assert!(!survives(&recording, &write, found.event).unwrap());
        assert!(found.what[0].starts_with("fault: kill -9 broker 1"), "the leader's death seals it: {found:?}");
        println!("{} probes; event {} at {} ms: {:?}", found.probes, found.event, found.time_ms, found.what);
    }
}
