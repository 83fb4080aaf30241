//! Two runs on one scrubber: this run and a second one (a variation, or the run before the
//! fork) as two small clusters side by side at the same virtual time, and the records whose
//! fates differ between them.

use rill_core::sim::spec::Snapshot;

use super::cluster::{replica_rows, status_class};
use super::*;
use crate::state::{Fate, TwinView};

/// One run drawn small: its brokers, each partition's replica logs, its losses so far.
fn mini_cluster(id: &str, title: &str, snapshot: &Snapshot, lost: usize) -> Html {
    let brokers = snapshot.brokers.iter().map(|broker| {
        let status = status_class(broker.status, broker.fenced);
        html! { <span class={format!("chip {status}")} title={format!("broker {}: {status}", broker.id)}>
        { format!("{} {status}", broker.id) }</span> }
    });
    let partitions = snapshot.partitions.iter().filter(|p| !p.topic.starts_with("__")).map(|partition| {
        let isr: Vec<String> = partition.isr.iter().map(ToString::to_string).collect();
        let leader = partition.leader.map_or_else(|| "none".to_owned(), |l| l.to_string());
        html! {
            <li class="partition">
                <div class="partition-title">
                    <strong>{ format!("{}-{}", partition.topic, partition.partition) }</strong>
                    <span>{ format!("leader {leader} · epoch {} · ISR [{}]", partition.leader_epoch, isr.join(", ")) }</span>
                </div>
                { replica_rows(snapshot, partition, |_| None) }
            </li>
        }
    });
    html! {
        <div class="side" id={id.to_owned()}>
            <h3>{ title }</h3>
            <div class="chips">{ for brokers }</div>
            <p class={classes!("lost", (lost > 0).then_some("bad"))}>{ format!("acknowledged writes lost so far: {lost}") }</p>
            <ul class="partitions">{ for partitions }</ul>
        </div>
    }
}

fn fate_cell(fate: &Fate) -> Html {
    let class = match fate {
        Fate::Lost(..) | Fate::Failed(_) => "bad",
        Fate::Kept(..) => "good",
        Fate::Pending => "muted",
    };
    html! { <td class={class}>{ fate.describe() }</td> }
}

#[derive(Properties, PartialEq)]
pub(super) struct TwinProps {
    pub view: Rc<TwinView>,
    pub here: Rc<State>,
    pub dispatch: Dispatch,
}

#[function_component(TwinPanel)]
pub(super) fn twin_panel(props: &TwinProps) -> Html {
    let (view, here) = (&props.view, &props.here.view.snapshot);
    let diff = &view.diff;
    html! {
        <section class="panel twin" aria-label="Two runs on one scrubber" id="twin">
            <h2>{ "Two runs on one scrubber" }</h2>
            <p class="muted">{ format!("This run and {}, both at ", view.label) }
                <b id="twin-now">{ seconds(view.snapshot.now_ms) }</b>
                { ": play, step or drag the timeline and both move together." }</p>
            <div class="sides">
                { mini_cluster("twin-here", "this run", here, diff.lost.0) }
                { mini_cluster("twin-there", &view.label, &view.snapshot, diff.lost.1) }
            </div>
            <p id="twin-summary">{ format!(
                "Record by record: acknowledged {} here and {} there; lost {} here and {} there; {} kept in both; {} differ.",
                diff.acknowledged.0, diff.acknowledged.1, diff.lost.0, diff.lost.1, diff.kept_in_both, diff.differing
            ) }</p>
            if !diff.rows.is_empty() {
                <table class="diff" id="twin-diff">
                    <thead><tr><th>{ "record" }</th><th>{ "this run" }</th><th>{ view.label.clone() }</th></tr></thead>
                    <tbody>
                        { for diff.rows.iter().map(|row| html! {
                            <tr><td>{ format!("producer {} #{}", row.client, row.send_id) }</td>{ fate_cell(&row.here) }{ fate_cell(&row.there) }</tr>
                        }) }
                    </tbody>
                </table>
            }
            <button id="close-twin" onclick={props.dispatch.reform(|_| Action::CloseTwin)}>{ "Close" }</button>
        </section>
    }
}
