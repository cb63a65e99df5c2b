//! The pieces of an excuses list between the thread that cuts them and
//! the threads that parse them: a queue that makes its filler parse too
//! when the workers are behind, the parsed pieces joined in file order
//! (with their CRCs), and the buffers of parsed pieces reused.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, PoisonError};

use super::parse::{parse_piece, Piece};
use super::xz_check::{self, Crcs};
use super::Prose;

/// A piece of the list to parse: `text[body_from..]`, whose first line is
/// `first_line`; `seq` orders parsed pieces in the file, `order` all the
/// text's pieces (for its CRC).
pub(super) struct Chunk<'a> {
    pub seq: usize,
    pub order: usize,
    pub text: Cow<'a, str>,
    pub body_from: usize,
    pub first_line: usize,
    pub indent: usize,
}

/// Pieces waiting for a worker, and the buffers of parsed ones.
pub(super) struct Queue<'a> {
    prose: Prose,
    /// The CRCs of the pieces parsed, when the reader does not check them.
    crcs: Option<Mutex<Crcs>>,
    /// Pieces that may wait before the thread filling the queue parses one
    /// itself: one per worker, so every worker has one to start on.
    max_waiting: usize,
    state: Mutex<(VecDeque<Chunk<'a>>, bool)>,
    ready: Condvar,
    /// Pieces parsed by the thread filling the queue.
    parsed: Mutex<Vec<(usize, Piece)>>,
    /// Buffers of parsed pieces, for the next ones: writing decompressed
    /// text into fresh memory costs a page fault per 4 KiB, which was a
    /// fifth of reading the plucky file.
    spare: Mutex<Vec<Vec<u8>>>,
}

impl<'a> Queue<'a> {
    pub(super) fn new(helpers: usize, prose: Prose, check: bool) -> Self {
        Self {
            prose,
            crcs: check.then(Mutex::default),
            max_waiting: helpers.max(1),
            state: Mutex::default(),
            ready: Condvar::new(),
            parsed: Mutex::default(),
            spare: Mutex::default(),
        }
    }

    pub(super) fn spare(&self) -> Option<Vec<u8>> {
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        let mut buf = spare.pop()?;
        buf.clear();
        Some(buf)
    }

    /// Queues a piece. When the workers are behind, the caller parses the
    /// oldest waiting piece itself: the workers and it stay busy (the sum
    /// of the work is the same), and few buffers are in use at once, so
    /// the caller keeps getting back buffers whose pages are already there.
    pub(super) fn push(&self, chunk: Chunk<'a>) {
        let behind = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.0.push_back(chunk);
            self.ready.notify_one();
            match state.0.len() > self.max_waiting {
                true => state.0.pop_front(),
                false => None,
            }
        };
        if let Some(c) = behind {
            let done = self.parse(c);
            let mut parsed = self.parsed.lock().unwrap_or_else(PoisonError::into_inner);
            parsed.push(done);
        }
    }

    /// No more pieces will come.
    pub(super) fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1 = true;
        self.ready.notify_all();
    }

    pub(super) fn pop(&self) -> Option<Chunk<'a>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(chunk) = state.0.pop_front() {
                return Some(chunk);
            }
            if state.1 {
                return None;
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Parses pieces until the queue is closed and empty.
    pub(super) fn work(&self) -> Vec<(usize, Piece)> {
        let mut done = Vec::new();
        while let Some(c) = self.pop() {
            done.push(self.parse(c));
        }
        done
    }

    /// Parses a piece and keeps its buffer for the next ones.
    pub(super) fn parse(&self, c: Chunk<'a>) -> (usize, Piece) {
        let body = &c.text[c.body_from..];
        let piece = parse_piece(body, c.first_line, c.indent, self.prose);
        if let Some(crcs) = &self.crcs {
            let crc = (c.order, xz_check::crc64(c.text.as_bytes()), c.text.len());
            let mut crcs = crcs.lock().unwrap_or_else(PoisonError::into_inner);
            crcs.add_crc(crc);
        }
        if let Cow::Owned(text) = c.text {
            let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
            spare.push(text.into_bytes());
        }
        (c.seq, piece)
    }
}

/// Runs `produce` on this thread, which fills the queue, while `helpers`
/// threads parse; then this thread parses what is left. The pieces come
/// back in file order, with their CRCs if `check`.
pub(super) fn run<'a>(
    helpers: usize,
    prose: Prose,
    check: bool,
    produce: impl FnOnce(&Queue<'a>),
) -> (Vec<Piece>, Crcs) {
    let queue = Queue::new(helpers, prose, check);
    let mut done = std::thread::scope(|s| {
        let workers: Vec<_> = (0..helpers).map(|_| s.spawn(|| queue.work())).collect();
        // Closed even if `produce` panics, so the workers end and the
        // scope can re-raise the panic instead of waiting forever.
        let closer = CloseOnDrop(&queue);
        produce(&queue);
        drop(closer);
        let mut done = queue.work();
        done.append(&mut queue.parsed.lock().unwrap_or_else(PoisonError::into_inner));
        for w in workers {
            match w.join() {
                Ok(pieces) => done.extend(pieces),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_unstable_by_key(|(seq, _)| *seq);
    let crcs = queue
        .crcs
        .map(|c| c.into_inner().unwrap_or_else(PoisonError::into_inner))
        .unwrap_or_default();
    (done.into_iter().map(|(_, piece)| piece).collect(), crcs)
}

struct CloseOnDrop<'q, 'a>(&'q Queue<'a>);

impl Drop for CloseOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.close();
    }
}
