//! Kafka's metrics over the run as sparklines, named as the broker's `/metrics` names them.

use super::*;
use rill_core::metrics::Kind;

const WIDTH: f64 = 120.0;
const HEIGHT: f64 = 22.0;

#[function_component(Metrics)]
pub(super) fn metrics_panel(props: &StateProps) -> Html {
    let plot = &props.state.plot;
    let rows = plot.series.iter().map(|series| {
        let points = &series.points;
        let max = points.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max).max(1.0);
        let (first_ms, last_ms) = (points.front().map_or(0, |p| p.0), points.back().map_or(0, |p| p.0));
        let span = (last_ms.saturating_sub(first_ms)).max(1) as f64;
        let line: Vec<String> = points
            .iter()
            .map(|(at_ms, value)| {
                let x = (at_ms - first_ms) as f64 / span * WIDTH;
                let y = HEIGHT - value / max * (HEIGHT - 2.0) - 1.0;
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let now = points.back().map_or(0.0, |p| p.1);
        let unit = if series.metric.kind == Kind::Counter { "/s" } else { "" };
        let short = series.metric.mbean.rsplit("name=").next().unwrap_or(series.metric.name);
        html! {
            <li class="metric" id={format!("metric-{}", series.metric.name)} title={format!("{} — {}", series.metric.mbean, series.metric.help)}>
                <span class="metric-name"><b>{ short }</b><code>{ series.metric.name }</code></span>
                <svg class="spark" viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img" aria-label={format!("{short} over the last {} s", points.len())}>
                    <polyline points={line.join(" ")} />
                </svg>
                <span class="metric-now">{ format!("{}{unit}", if now.fract() == 0.0 { format!("{now:.0}") } else { format!("{now:.1}") }) }</span>
            </li>
        }
    });
    html! {
        <section class="panel" aria-label="Kafka metrics" id="metrics">
            <h2>{ "Kafka's metrics" }</h2>
            <p class="muted">{ "The names a Prometheus/Grafana dashboard of Kafka (and Rill's /metrics) uses; one point per simulated second." }</p>
            <ul class="metrics">{ for rows }</ul>
        </section>
    }
}
