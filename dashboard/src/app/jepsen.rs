//! The invariant panel: acknowledged writes lost (grouped into offset runs, linked to their
//! fault), duplicates, violations, and "Check now".

use super::*;

/// Lost writes found together (same partition, leader, epoch, acks and cause) as offset runs:
/// (first, last offset, count). acks=0 sends that never landed have no offset: those with the
/// same cause are one group.
pub(super) fn lost_groups(lost: &[LostWrite]) -> Vec<(&LostWrite, i64, usize)> {
    let mut groups: Vec<(&LostWrite, i64, usize)> = Vec::new();
    for write in lost {
        match groups.last_mut() {
            Some((first, last, count))
                if (
                    first.topic.as_str(),
                    first.partition,
                    first.leader,
                    first.leader_epoch,
                    first.acks,
                    &first.cause,
                ) == (
                    write.topic.as_str(),
                    write.partition,
                    write.leader,
                    write.leader_epoch,
                    write.acks,
                    &write.cause,
                ) && first.landed == write.landed
                    && (write.offset == *last + 1 || !write.landed) =>
            {
                *last = write.offset;
                *count += 1;
            }
            _ => groups.push((write, write.offset, 1)),
        }
    }
    groups
}

#[function_component(Jepsen)]
pub(super) fn jepsen(props: &Props) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let report = &state.view.snapshot.report;
    let lost = report.lost_live.total();
    let acks_name = |acks: i16| if acks == -1 { "all".to_owned() } else { acks.to_string() };
    html! {
        <section class="panel" aria-label="Invariants" id="jepsen">
            <h2>{ "Invariants and lost writes" }</h2>
            <dl class="counts">
                <div><dt>{ "acknowledged acks=0 / 1 / all" }</dt>
                    <dd>{ format!("{} / {} / {}", report.acknowledged.acks_0, report.acknowledged.acks_1, report.acknowledged.acks_all) }</dd></div>
                <div><dt>{ "lost so far" }</dt><dd id="lost-count">{ lost }</dd></div>
                <div><dt>{ "duplicates so far" }</dt><dd id="duplicate-count">{ report.duplicates_live }</dd></div>
                <div><dt>{ "unclean elections" }</dt><dd id="unclean-count">{ report.unclean_elections }</dd></div>
                <div><dt>{ "violations" }</dt><dd id="violation-count">{ report.violations.len() }</dd></div>
            </dl>
            if lost > 0 {
                <div class="flag bad" id="lost-flag" role="status">
                    <strong>{ format!("⚠ {lost} acknowledged write(s) lost") }</strong>
                    <ul class="lost-list">
                        { for lost_groups(&report.lost_writes).into_iter().take(8).map(|(w, last, count)| {
                            let at = w.time_ms;
                            let offsets = if count == 1 { format!("offset {}", w.offset) } else { format!("offsets {}–{} ({count} writes)", w.offset, last) };
                            let what = if w.landed {
                                format!("{}-{} {offsets}, acks={}: not on the new leader {} (epoch {})",
                                    w.topic, w.partition, acks_name(w.acks), w.leader, w.leader_epoch)
                            } else {
                                format!("{}-{}, {count} acks=0 send(s) never written", w.topic, w.partition)
                            };
                            html! {
                                <li class={classes!((!w.landed).then_some("never-landed"))}>
                                    { what }
                                    if let Some(cause) = &w.cause {
                                        <span class="cause">{ if w.landed { format!(" — after: {cause}") } else { format!(" — {cause}") } }</span>
                                    }
                                    { " " }
                                    <button class="link" onclick={dispatch.reform(move |_| Action::SeekTime(at))}>{ format!("go to {}", seconds(at)) }</button>
                                    if w.landed {
                                        { " " }
                                        <button class="link bisect" title="Replays the run, healing every fault at one event after another, to find the earliest event after which nothing could save this write"
                                            onclick={ let w = w.clone(); dispatch.reform(move |_| Action::Bisect(w.clone())) }>{ "when was it sealed?" }</button>
                                    }
                                </li>
                            }
                        }) }
                    </ul>
                </div>
            } else {
                <div class="flag good" id="no-loss" role="status">{ "✓ No acknowledged write lost so far" }</div>
            }
            if let Some(found) = state.no_return.clone() {
                <div class="final" id="no-return" role="status">
                    <p>
                        <strong>{ format!("Point of no return for {}-{} offset {}: event {} at {}.", found.write.topic, found.write.partition, found.write.offset, found.event, seconds(found.time_ms)) }</strong>
                        { " Healing every fault one event earlier keeps the write; from this event on nothing could save it. " }
                        { format!("({} replays.) ", found.probes) }
                        <button class="link" onclick={ let event = found.event; dispatch.reform(move |_| Action::Seek(event)) }>{ "go there" }</button>
                    </p>
                    <ul>{ for found.what.iter().take(6).map(|line| html! { <li>{ line }</li> }) }</ul>
                </div>
            }
            if report.duplicates_live > 0 {
                <div class="flag warn" id="duplicate-flag" role="status">
                    <strong>{ format!("⚠ {} record(s) committed twice", report.duplicates_live) }</strong>
                    { " — a producer without idempotence retried a write whose response was lost (enable.idempotence=true prevents this). " }
                    { report.duplicate_writes.iter().take(10).map(|d| format!("{}-{}@{}", d.topic, d.partition, d.offset)).collect::<Vec<_>>().join(", ") }
                </div>
            }
            { for report.violations.iter().take(5).map(|v| html! {
                <div class="flag bad violation">{ format!("VIOLATION {}: {} (at {})", v.invariant, v.detail, seconds(v.time_ms)) }</div>
            }) }
            <div class="row">
                <button id="check-now" onclick={dispatch.reform(|_| Action::CheckNow)}
                    title="Replays the run in a copy, heals everything, lets it settle and runs the end-of-run checks">
                    { "Check now (heal, settle, verify)" }</button>
            </div>
            if let Some(final_report) = state.final_report.clone() {
                <div class="final" id="final-report">
                    <p>{ format!("End-of-run check of the run up to {} (after healing and {} s of settling):", seconds(final_report.0), crate::state::SETTLE_MS / 1_000) }</p>
                    <ul>
                        <li>{ format!("lost acks=0 / 1 / all: {} / {} / {}", final_report.1.lost.acks_0, final_report.1.lost.acks_1, final_report.1.lost.acks_all) }</li>
                        <li>{ format!("duplicates: {}", final_report.1.duplicates) }</li>
                        <li>{ format!("committed records rewritten: {}", final_report.1.committed_rewritten) }</li>
                        <li>{ format!("violations: {}", final_report.1.violations.len()) }</li>
                    </ul>
                </div>
            }
        </section>
    }
}
