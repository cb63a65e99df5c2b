//! The shared bits of talking HTTP, used by more than one service's client
//! (and their simulators): reading the HTML services answer with, form and
//! percent encoding, and when a failed request may be sent again. What is
//! particular to one service (lazr's value encoding, request.cgi's parameter
//! order, Launchpad's error statuses) stays with that service.

pub mod form;
pub mod html;
pub mod resend;
