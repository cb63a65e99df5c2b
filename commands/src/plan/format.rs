//! Shared wording for plans, steps and times, so every reply reads alike.

use crate::plan::{PlanDetail, PlanState, PlanSummary, StepState, StepView};

/// "just now", "5m ago", "3h ago", "2d ago".
pub fn ago(now_ms: i64, at_ms: i64) -> String {
    let secs = (now_ms - at_ms).max(0) / 1000;
    match secs {
        0..=9 => "just now".to_string(),
        10..=59 => format!("{secs}s ago"),
        60..=3599 => format!("{}m ago", secs / 60),
        3600..=86_399 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

/// "in 10 min" / "expired".
pub fn expires_in(now_ms: i64, at_ms: i64) -> String {
    let secs = (at_ms - now_ms) / 1000;
    if secs <= 0 {
        "expired".to_string()
    } else if secs < 120 {
        format!("in {secs} s")
    } else {
        format!("in {} min", secs / 60)
    }
}

pub fn step_mark(state: StepState) -> &'static str {
    match state {
        StepState::Pending => "·",
        StepState::Running => "▸",
        StepState::Waiting => "⏳",
        StepState::Done => "✓",
        StepState::Failed => "✗",
        StepState::Skipped => "–",
    }
}

/// "" for one, "s" for any other count: `step{}`.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `▰▰▰▱▱▱ 3/6` — one line that a progress message can be edited to.
pub fn progress(done: u32, total: u32) -> String {
    let width = total.clamp(1, 10);
    let filled = (done * width).checked_div(total).unwrap_or(width);
    format!(
        "{}{} {done}/{total}",
        "▰".repeat(filled as usize),
        "▱".repeat((width - filled) as usize)
    )
}

pub fn plan_line(p: &PlanSummary, now_ms: i64) -> String {
    format!(
        "#{} !{} · {} {}/{} · {} · {} — {}",
        p.id,
        p.command,
        p.state,
        p.steps_done,
        p.steps_total,
        p.requested_by,
        ago(now_ms, p.created_at_ms),
        p.summary
    )
}

pub fn step_line(s: &StepView) -> String {
    let mut line = format!("{}. {} {}", s.seq, step_mark(s.state), s.action.describe());
    if s.attempts > 1 {
        line.push_str(&format!(" ({} attempts)", s.attempts));
    }
    if let Some(r) = &s.result {
        line.push_str(&format!(" → {r}"));
    }
    if let Some(e) = &s.error {
        line.push_str(&format!(" → error: {e}"));
    }
    line
}

pub fn plan_detail(d: &PlanDetail, now_ms: i64) -> String {
    let p = &d.plan;
    let mut out = format!(
        "plan #{} · !{} by {} · {} · {} · {}\n  {}",
        p.id,
        p.command,
        p.requested_by,
        p.state,
        progress(p.steps_done, p.steps_total),
        ago(now_ms, p.created_at_ms),
        p.summary
    );
    if let Some(by) = &d.confirmed_by {
        out.push_str(&format!("\n  confirmed by {by}"));
    }
    if let (PlanState::AwaitingConfirmation, Some(exp)) = (p.state, d.expires_at_ms) {
        out.push_str(&format!(
            "\n  waiting for `!confirm {}` — expires {}",
            p.id,
            expires_in(now_ms, exp)
        ));
    }
    for s in &d.steps {
        out.push_str("\n  ");
        out.push_str(&step_line(s));
    }
    out
}
