//! `!confirm` and `!cancel`: releasing or stopping a stored plan. Who may
//! do so depends on the stored plan (its command's role, its requester,
//! its expiry).

use shepherd_commands::PlanState;

use crate::dispatch::{plural, Dispatcher, Request};
use crate::metrics::Metrics;
use crate::permissions::{Caller, Refusal};
use crate::store::{now_ms, StoreError};

impl Dispatcher {
    pub(crate) async fn confirm(&self, req: &Request<'_>, id: i64) -> Result<String, StoreError> {
        let Some(plan) = self.store.plan_control(id).await? else {
            return Ok(format!(
                "there is no plan #{id} — `!jobs` lists recent ones"
            ));
        };
        if plan.state != PlanState::AwaitingConfirmation {
            return Ok(format!(
                "plan #{id} is {}; there is nothing to confirm",
                plan.state
            ));
        }
        let now = now_ms();
        if plan.expires_at.is_some_and(|at| at <= now) {
            self.store.end_plan(id, PlanState::Expired, now).await?;
            self.audit(req, Some(id), "expired", "confirmation came too late")
                .await?;
            return Ok(format!("plan #{id} expired before it was confirmed; nothing was sent. Ask again to start over."));
        }
        // Confirming is doing: where the plan's command may not be used
        // (a DM, another channel), it may not be confirmed either.
        let allowed = self
            .permissions
            .check_place(
                Caller::from(req.msg),
                &plan.command,
                plan.needs_role.as_deref(),
            )
            .and_then(|()| {
                self.may_control(
                    Caller::from(req.msg),
                    &plan.requested_by,
                    plan.needs_role.as_deref(),
                    false,
                )
            });
        if let Err(refusal) = allowed {
            Metrics::bump(&self.metrics.refusals_total);
            self.audit(req, Some(id), "refused", &refusal.audit_detail())
                .await?;
            return Ok(refusal.message("confirm"));
        }
        if !self.store.confirm_plan(id, &req.msg.actor, now).await? {
            return Ok(format!("plan #{id} is no longer waiting for confirmation"));
        }
        self.wake.notify_one();
        self.audit(req, Some(id), "confirmed", "").await?;
        Ok(format!(
            "plan #{id} confirmed by {} · {} step{} queued ✓",
            req.msg.display_name,
            plan.steps,
            plural(plan.steps as usize)
        ))
    }

    pub(crate) async fn cancel(&self, req: &Request<'_>, id: i64) -> Result<String, StoreError> {
        let Some(plan) = self.store.plan_control(id).await? else {
            return Ok(format!(
                "there is no plan #{id} — `!jobs` lists recent ones"
            ));
        };
        if plan.state.is_final() {
            return Ok(format!("plan #{id} is already {}", plan.state));
        }
        if let Err(refusal) = self.may_control(
            Caller::from(req.msg),
            &plan.requested_by,
            plan.needs_role.as_deref(),
            true,
        ) {
            Metrics::bump(&self.metrics.refusals_total);
            self.audit(req, Some(id), "refused", &refusal.audit_detail())
                .await?;
            return Ok(refusal.message("cancel"));
        }
        if !self
            .store
            .end_plan(id, PlanState::Cancelled, now_ms())
            .await?
        {
            return Ok(format!("plan #{id} finished before it could be cancelled"));
        }
        self.audit(req, Some(id), "cancelled", "").await?;
        Ok(format!(
            "plan #{id} cancelled; steps not yet applied are skipped — `!show {id}`"
        ))
    }

    /// Confirming needs the plan's role (or, for role-less commands, being
    /// the requester); cancelling is also open to the requester.
    fn may_control(
        &self,
        caller: Caller<'_>,
        requester: &str,
        role: Option<&str>,
        requester_may: bool,
    ) -> Result<(), Refusal> {
        if requester_may && caller.actor == requester {
            return Ok(());
        }
        match role {
            Some(role) => self.permissions.check_role(caller, role),
            None if caller.actor == requester => Ok(()),
            None => Err(Refusal::NeedsRole {
                role: "requester".into(),
                ask: None,
                holders: vec![requester.to_string()],
            }),
        }
    }
}
