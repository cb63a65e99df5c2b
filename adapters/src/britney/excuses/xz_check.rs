//! Checking an `.xz` file's CRC64 on the threads that parse it.
//!
//! liblzma checks the CRC64 of what it decompresses as it goes, a fifth of
//! its time on the plucky file, on the one thread that decompression
//! cannot leave. For the files britney publishes (one stream holding one
//! block, checked with CRC64) the decoder is told to skip that check
//! (`LZMA_IGNORE_CHECK`; it still checks the index and the footer), the
//! workers compute the CRC64 of the pieces they parse, and the pieces'
//! CRCs, joined in file order, must equal the one the block stores. Any
//! other layout is decompressed with liblzma's own check.

/// CRC-64/XZ (ECMA-182, reflected), as `.xz` files store it.
const POLY: u64 = 0xC96C_5795_D787_0F42;

/// The CRC64 the single block of `xz` stores, when `xz` is exactly one
/// stream holding one block checked with CRC64 (as xz writes a file it
/// compresses on one thread).
pub(super) fn stored_crc64(xz: &[u8]) -> Option<u64> {
    const MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
    const HEADER: usize = 12;
    // Stream flags: no flags, check type 4 (CRC64).
    const FLAGS: [u8; 2] = [0x00, 0x04];
    if xz.len() < 2 * HEADER || !xz.starts_with(MAGIC) || xz[6..8] != FLAGS {
        return None;
    }
    // Footer: CRC32, backward size, stream flags, "YZ".
    let footer = &xz[xz.len() - HEADER..];
    if footer[10..] != *b"YZ" || footer[8..10] != FLAGS {
        return None;
    }
    let backward = u32::from_le_bytes(footer[4..8].try_into().ok()?);
    let index_size = (usize::try_from(backward).ok()? + 1) * 4;
    let index_at = (xz.len() - HEADER).checked_sub(index_size)?;
    // Index: indicator 0, number of records, (unpadded size, uncompressed size)…
    let index = &xz[index_at..xz.len() - HEADER];
    if index.first() != Some(&0) {
        return None;
    }
    let (records, at) = vli(index, 1)?;
    let (unpadded, _) = vli(index, at)?;
    if records != 1 {
        return None;
    }
    // The block (header, data, padding to 4 bytes, check) fills the space
    // between the stream header and the index; the check ends it.
    let padded = usize::try_from(unpadded).ok()?.checked_add(3)? & !3;
    if HEADER.checked_add(padded)? != index_at || padded < 8 {
        return None;
    }
    let check = xz.get(index_at - 8..index_at)?;
    Some(u64::from_le_bytes(check.try_into().ok()?))
}

/// A variable-length integer of the `.xz` format at `at`: value, next offset.
fn vli(b: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for shift in (0..63).step_by(7) {
        let byte = *b.get(at)?;
        at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

/// Eight tables of 256 entries: eight bytes a step ("slicing by 8"), about
/// twice the speed of liblzma 5.2's four.
const TABLES: [[u64; 256]; 8] = tables();

const fn tables() -> [[u64; 256]; 8] {
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// The CRC64 of `data`.
pub(super) fn crc64(data: &[u8]) -> u64 {
    let mut crc = !0u64;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let v = crc ^ u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        crc = TABLES[7][(v & 0xff) as usize]
            ^ TABLES[6][((v >> 8) & 0xff) as usize]
            ^ TABLES[5][((v >> 16) & 0xff) as usize]
            ^ TABLES[4][((v >> 24) & 0xff) as usize]
            ^ TABLES[3][((v >> 32) & 0xff) as usize]
            ^ TABLES[2][((v >> 40) & 0xff) as usize]
            ^ TABLES[1][((v >> 48) & 0xff) as usize]
            ^ TABLES[0][(v >> 56) as usize];
    }
    for &b in words.remainder() {
        crc = TABLES[0][((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// What appending zero bytes does to a CRC, for lengths up to a bound:
/// `ops[k]` appends 2^k zero bytes (zlib's `crc32_combine`, for 64 bits,
/// with the powers worked out once for all the pieces to join).
struct ZeroBytes {
    ops: Vec<[u64; 64]>,
}

impl ZeroBytes {
    /// Operators for any length up to `max_len`.
    fn new(max_len: u64) -> Self {
        // One zero bit, then two, four, eight: one zero byte.
        let mut op = [0u64; 64];
        op[0] = POLY;
        for (n, row) in op.iter_mut().enumerate().skip(1) {
            *row = 1 << (n - 1);
        }
        for _ in 0..3 {
            op = square(&op);
        }
        let mut ops = vec![op];
        while (1u64 << (ops.len() - 1)) < max_len / 2 + 1 && ops.len() < 64 {
            let next = square(&ops[ops.len() - 1]);
            ops.push(next);
        }
        Self { ops }
    }

    /// `crc` with `len` zero bytes appended (`len` at most the bound).
    fn append(&self, mut crc: u64, len: u64) -> u64 {
        for (k, op) in self.ops.iter().enumerate() {
            if len >> k & 1 == 1 {
                crc = times(op, crc);
            }
        }
        crc
    }
}

fn times(mat: &[u64; 64], mut vec: u64) -> u64 {
    let mut sum = 0;
    let mut i = 0;
    while vec != 0 {
        if vec & 1 == 1 {
            sum ^= mat[i];
        }
        vec >>= 1;
        i += 1;
    }
    sum
}

fn square(mat: &[u64; 64]) -> [u64; 64] {
    let mut out = [0u64; 64];
    for (n, row) in out.iter_mut().enumerate() {
        *row = times(mat, mat[n]);
    }
    out
}

/// The CRC64 of `a` followed by `b`, from theirs and `b`'s length.
#[cfg(test)]
fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    ZeroBytes::new(len_b).append(crc_a, len_b) ^ crc_b
}

/// CRCs of consecutive pieces of the data, joined in order.
#[derive(Debug, Default)]
pub(super) struct Crcs(Vec<(usize, u64, u64)>);

impl Crcs {
    /// Notes the CRC of the piece that is `order`-th in the data.
    pub fn add(&mut self, order: usize, data: &[u8]) {
        self.0.push((order, crc64(data), data.len() as u64));
    }

    /// Notes a CRC computed already: (order, CRC, length).
    pub fn add_crc(&mut self, (order, crc, len): (usize, u64, usize)) {
        self.0.push((order, crc, len as u64));
    }

    pub fn extend(&mut self, other: Crcs) {
        self.0.extend(other.0);
    }

    /// The CRC64 of all the pieces, in order.
    pub fn joined(mut self) -> u64 {
        self.0.sort_unstable_by_key(|&(order, _, _)| order);
        let longest = self.0.iter().map(|&(_, _, len)| len).max().unwrap_or(0);
        let zeros = ZeroBytes::new(longest);
        self.0.iter().fold(crc64(&[]), |crc, &(_, piece, len)| {
            zeros.append(crc, len) ^ piece
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn crc64_is_the_xz_one() {
        // The CRC-64/XZ check value.
        assert_eq!(crc64(b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(crc64(b""), 0);
    }

    #[test]
    fn combining_crcs_is_the_crc_of_the_concatenation() {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i * 31 + i / 7) as u8).collect();
        for cut in [0, 1, 7, 8, 255, 256, 4096, 65_535, 65_536, 69_999, 70_000] {
            let (a, b) = data.split_at(cut);
            assert_eq!(
                combine(crc64(a), crc64(b), b.len() as u64),
                crc64(&data),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn crcs_of_pieces_join_to_the_crc_of_the_whole() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for cuts in [
            vec![],
            vec![0],
            vec![1, 2, 3],
            vec![5000],
            vec![17, 4096, 9999],
        ] {
            let bounds: Vec<usize> = [0]
                .into_iter()
                .chain(cuts.clone())
                .chain([data.len()])
                .collect();
            let mut crcs = Crcs::default();
            // Added out of order: joined in order all the same.
            for (k, w) in bounds.windows(2).enumerate().rev() {
                crcs.add(k, &data[w[0]..w[1]]);
            }
            assert_eq!(crcs.joined(), crc64(&data), "cuts {cuts:?}");
        }
    }

    fn xz(data: &[u8], check: liblzma::stream::Check) -> Vec<u8> {
        let stream = liblzma::stream::Stream::new_easy_encoder(1, check).unwrap();
        let mut w = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn the_stored_crc_is_found_only_in_single_block_crc64_files() {
        let data = b"sources:\n- item-name: a\n".repeat(1000);
        let one = xz(&data, liblzma::stream::Check::Crc64);
        assert_eq!(stored_crc64(&one), Some(crc64(&data)));
        assert_eq!(
            stored_crc64(&xz(&data, liblzma::stream::Check::Crc32)),
            None
        );
        assert_eq!(stored_crc64(&xz(&data, liblzma::stream::Check::None)), None);
        // Two streams one after the other: the first one's footer is not
        // at the end of the file.
        let two = [one.clone(), one.clone()].concat();
        assert_eq!(stored_crc64(&two), None);
        // Stream padding after the stream.
        let padded = [one.clone(), vec![0; 4]].concat();
        assert_eq!(stored_crc64(&padded), None);
        assert_eq!(stored_crc64(&one[..one.len() - 1]), None);
        assert_eq!(stored_crc64(b""), None);
    }
}
