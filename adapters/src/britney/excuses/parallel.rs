//! Parsing an excuses file on every core, with the same result as `parse`.
//!
//! The `sources:` list is cut into pieces at lines starting with `-` at
//! column 0 (`is_cut`), which no entry spans; pieces are parsed on worker
//! threads and joined in file order. A compressed file is decompressed on
//! the calling thread while the workers parse what has been decompressed so
//! far (decompression cannot be split: the xz files britney publishes are a
//! single block), so reading the file costs about as long as the slower of
//! the two rather than their sum; when decompression is done, the calling
//! thread parses too. The queue between them is `queue.rs`.

use std::borrow::Cow;
use std::io::Read;

use super::parse::{is_cut, Head, Merged};
use super::queue::{run, Chunk};
use super::xz_check::{self, Crcs};
use super::{Excuses, ExcusesError, Prose};

/// How much decompressed text a piece holds, about: big enough that
/// handing it over costs nothing next to parsing it, small enough that the
/// last one (parsed after decompression ends) is quick.
const PIECE_BYTES: usize = 256 * 1024;

/// Threads besides the caller's, one per other core (a few at most: two
/// already keep up with decompression).
fn helpers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(2, 4) - 1)
}

/// Parses `update_excuses.yaml` text like `parse`, using every core.
pub fn parse_parallel(text: &str) -> Result<Excuses, ExcusesError> {
    parse_parallel_in(text, PIECE_BYTES, helpers(), Prose::Read)
}

/// `parse_parallel` with pieces of about `piece_bytes` and `helpers` threads.
pub(super) fn parse_parallel_in(
    text: &str,
    piece_bytes: usize,
    helpers: usize,
    prose: Prose,
) -> Result<Excuses, ExcusesError> {
    let head = Head::read(text)?;
    let body = head.body(text);
    let (pieces, _) = run(helpers, prose, false, |queue| {
        let mut line = head.body_line;
        let mut from = 0;
        for seq in 0.. {
            let to = next_cut(body.as_bytes(), from + piece_bytes).unwrap_or(body.len());
            let piece = &body[from..to];
            queue.push(Chunk {
                seq,
                order: seq,
                text: Cow::Borrowed(piece),
                body_from: 0,
                first_line: line,
                indent: head.indent,
            });
            if to == body.len() {
                break;
            }
            line += count_lines(piece.as_bytes());
            from = to;
        }
    });
    let mut out = Merged::new(head.generated_date);
    for piece in pieces {
        out.push(piece);
    }
    Ok(out.finish())
}

/// Decompresses (`.xz`, `.gz` or plain, by magic bytes, like `decompress`)
/// and parses, using every core: the same result, or the same error, as
/// `decompress` then `parse`.
pub fn parse_bytes(bytes: &[u8]) -> Result<Excuses, ExcusesError> {
    parse_bytes_with(bytes, Prose::Read)
}

/// `parse_bytes`, reading britney's prose about each item or not. Without
/// it the items are those `parse_bytes` gives with `excuses` and
/// `detailed_info` empty (and an item whose prose alone is malformed is
/// read rather than skipped).
pub fn parse_bytes_with(bytes: &[u8], prose: Prose) -> Result<Excuses, ExcusesError> {
    parse_bytes_in(bytes, PIECE_BYTES, helpers(), prose)
}

pub(super) fn parse_bytes_in(
    bytes: &[u8],
    piece_bytes: usize,
    helpers: usize,
    prose: Prose,
) -> Result<Excuses, ExcusesError> {
    if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        // The workers check the CRC64 when the file's layout lets them
        // (see `xz_check`); otherwise liblzma does, as `decompress` does.
        let crc = xz_check::stored_crc64(bytes);
        let flags = if crc.is_some() {
            liblzma::stream::IGNORE_CHECK
        } else {
            0
        };
        let stream = liblzma::stream::Stream::new_stream_decoder(u64::MAX, flags)
            .map_err(|e| ExcusesError::Io(e.into()))?;
        let xz = liblzma::bufread::XzDecoder::new_stream(bytes, stream);
        parse_stream(xz, piece_bytes, helpers, prose, crc)
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::bufread::MultiGzDecoder::new(bytes);
        parse_stream(gz, piece_bytes, helpers, prose, None)
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| ExcusesError::Utf8)?;
        parse_parallel_in(text, piece_bytes, helpers, prose)
    }
}

/// Reads decompressed text from `reader` on this thread, handing pieces to
/// `helpers` worker threads as soon as they are complete. With `crc`, the
/// CRC64 of the whole text must be that (the reader does not check it).
fn parse_stream(
    reader: impl Read,
    piece_bytes: usize,
    helpers: usize,
    prose: Prose,
    crc: Option<u64>,
) -> Result<Excuses, ExcusesError> {
    let mut head = None;
    let mut failed = Failed::default();
    // CRCs of the pieces no worker parses (after a failure).
    let mut unparsed = Crcs::default();
    let (pieces, crcs) = run(helpers, prose, crc.is_some(), |queue| {
        // Every piece cut, parsed or not, in file order.
        let mut order = 0;
        let mut cutter = Cutter::default();
        let mut reader = reader;
        let mut buf: Vec<u8> = Vec::with_capacity(piece_bytes);
        let (mut seq, mut line) = (0, 0);
        loop {
            let before = buf.len();
            let done = match read_more(&mut reader, &mut buf, piece_bytes.max(1)) {
                Ok(n) => n == 0,
                Err(e) => {
                    // Like `decompress`, which fails on a read error
                    // before anything is parsed.
                    failed.io.get_or_insert(e);
                    true
                }
            };
            let cut = match done {
                true => buf.len(),
                false => match cutter.last_cut(&buf, before) {
                    Some(cut) => cut,
                    None => continue,
                },
            };
            if cut > 0 {
                // The rest goes to a buffer a worker is done with, if any:
                // pages already written to cost nothing to write again.
                let mut next = queue.spare().unwrap_or_default();
                next.reserve(piece_bytes + (buf.len() - cut));
                next.extend_from_slice(&buf[cut..]);
                buf.truncate(cut);
                let piece = std::mem::replace(&mut buf, next);
                order += 1;
                // Cuts are at ASCII bytes, so the file is UTF-8 exactly
                // when every piece is.
                match String::from_utf8(piece) {
                    Err(e) => {
                        failed.utf8 = true;
                        cutter.stopped = true;
                        if crc.is_some() {
                            unparsed.add(order, e.as_bytes());
                        }
                    }
                    Ok(text) if cutter.stopped => {
                        if crc.is_some() {
                            unparsed.add(order, text.as_bytes());
                        }
                    }
                    Ok(text) => {
                        if seq == 0 {
                            match Head::read(&text) {
                                Ok(h) => {
                                    line = h.body_line;
                                    head = Some(h);
                                }
                                Err(e) => {
                                    failed.format.get_or_insert(e);
                                    cutter.stopped = true;
                                    if crc.is_some() {
                                        unparsed.add(order, text.as_bytes());
                                    }
                                }
                            }
                        }
                        if let (Some(h), false) = (&head, cutter.stopped) {
                            // Only the first piece holds the header.
                            let body_from = if seq == 0 { h.body_from } else { 0 };
                            let lines = count_lines(&text.as_bytes()[body_from..]);
                            queue.push(Chunk {
                                seq,
                                order,
                                text: Cow::Owned(text),
                                body_from,
                                first_line: line,
                                indent: h.indent,
                            });
                            seq += 1;
                            line += lines;
                        }
                    }
                }
            }
            if done {
                break;
            }
        }
    });
    if let Some(stored) = crc {
        let mut crcs = crcs;
        crcs.extend(unparsed);
        if crcs.joined() != stored {
            // What liblzma reports when it finds the check wrong.
            let corrupt = std::io::Error::from(liblzma::stream::Error::Data);
            failed.io.get_or_insert(corrupt);
        }
    }
    failed.check()?;
    let head = head.ok_or_else(|| ExcusesError::Format("no `sources:` list".into()))?;
    let mut out = Merged::new(head.generated_date);
    for piece in pieces {
        out.push(piece);
    }
    Ok(out.finish())
}

/// Appends up to `n` bytes from `reader` to `buf`; 0 at the end.
fn read_more(reader: &mut impl Read, buf: &mut Vec<u8>, n: usize) -> std::io::Result<usize> {
    let len = buf.len();
    buf.resize(len + n, 0);
    let mut got = 0;
    let result = loop {
        match reader.read(&mut buf[len + got..]) {
            Ok(0) => break Ok(got),
            Ok(k) => {
                got += k;
                if got == n {
                    break Ok(got);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    buf.truncate(len + got);
    result
}

/// Errors met while streaming, reported in the order `decompress` then
/// `parse` would meet them: a read error, then bad UTF-8, then a bad header.
#[derive(Default)]
struct Failed {
    io: Option<std::io::Error>,
    utf8: bool,
    format: Option<ExcusesError>,
}

impl Failed {
    fn check(self) -> Result<(), ExcusesError> {
        if let Some(e) = self.io {
            return Err(ExcusesError::Io(e));
        }
        if self.utf8 {
            return Err(ExcusesError::Utf8);
        }
        self.format.map_or(Ok(()), Err)
    }
}

/// Where the decompressed text may be cut.
#[derive(Default)]
struct Cutter {
    /// Offset of the `sources:` line in the first piece, once seen: only
    /// the list is cut, never the header before it.
    sources_at: Option<usize>,
    /// A piece has been cut off: the buffer now holds only the list.
    cut_once: bool,
    /// Something failed: everything left goes into one last piece (that is
    /// not parsed; the rest is read only to report errors in order).
    stopped: bool,
}

impl Cutter {
    /// The last cut in `buf`, looking only at lines that start after
    /// `scanned` (the bytes before were looked at already).
    fn last_cut(&mut self, buf: &[u8], scanned: usize) -> Option<usize> {
        if self.stopped {
            return None;
        }
        let min = if self.cut_once {
            1
        } else {
            if self.sources_at.is_none() {
                self.sources_at = find_sources(buf, scanned.saturating_sub(b"\nsources:".len()));
            }
            self.sources_at? + 1
        };
        let from = scanned.max(min);
        // A line that starts at `i` follows the `\n` at `i - 1`.
        let cut = memchr::memrchr_iter(b'\n', buf.get(from - 1..)?)
            .map(|nl| from + nl)
            .find(|&i| is_cut(&buf[i..]))?;
        self.cut_once = true;
        Some(cut)
    }
}

/// Offset of the line `split_header` takes for the `sources:` line: the
/// start of the text or the first `\nsources:`, searched from `from`.
fn find_sources(buf: &[u8], from: usize) -> Option<usize> {
    if buf.starts_with(b"sources:") {
        return Some(0);
    }
    let needle = b"\nsources:";
    buf.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| from + i + 1)
}

/// The first cut at or after `from`, if any.
fn next_cut(body: &[u8], from: usize) -> Option<usize> {
    let from = from.max(1);
    memchr::memchr_iter(b'\n', body.get(from - 1..)?)
        .map(|nl| from + nl)
        .find(|&i| is_cut(&body[i..]))
}

fn count_lines(text: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', text).count()
}

#[cfg(test)]
#[path = "parallel_tests.rs"]
mod tests;
