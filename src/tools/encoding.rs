//! The text encodings the file tools read and write back: UTF-8 (with or without a byte-order
//! mark) and UTF-16 with a byte-order mark, little or big endian (what Windows tools such as
//! PowerShell and Visual Studio write). UTF-16 without a BOM is not guessed: it reads as binary.
//!
//! Hand-written rather than a crate: `encoding_rs` decodes UTF-16 but does not encode it, and
//! the whole job is `char::decode_utf16` / `str::encode_utf16` plus a streaming adapter.

use std::io::Read;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl Encoding {
    /// The encoding a file's first bytes announce. A UTF-32 LE mark (`FF FE 00 00`) is not
    /// taken for UTF-16: such a file stays binary.
    pub fn sniff(head: &[u8]) -> Encoding {
        if head.starts_with(UTF8_BOM) {
            Encoding::Utf8Bom
        } else if head.starts_with(b"\xFF\xFE") && !head.starts_with(b"\xFF\xFE\0\0") {
            Encoding::Utf16Le
        } else if head.starts_with(b"\xFE\xFF") {
            Encoding::Utf16Be
        } else {
            Encoding::Utf8
        }
    }

    pub fn bom(self) -> &'static [u8] {
        match self {
            Encoding::Utf8 => b"",
            Encoding::Utf8Bom => UTF8_BOM,
            Encoding::Utf16Le => b"\xFF\xFE",
            Encoding::Utf16Be => b"\xFE\xFF",
        }
    }

    pub fn is_utf16(self) -> bool {
        matches!(self, Encoding::Utf16Le | Encoding::Utf16Be)
    }

    /// How a reply names the encoding.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
        }
    }

    /// Decodes a whole file (BOM included) strictly; the error says why it is not text.
    pub fn decode(self, bytes: &[u8]) -> Result<String, &'static str> {
        let body = bytes.get(self.bom().len()..).unwrap_or_default();
        if !self.is_utf16() {
            if body[..body.len().min(8192)].contains(&0) {
                return Err("is a binary file");
            }
            return std::str::from_utf8(body)
                .map(str::to_string)
                .map_err(|_| "is not valid UTF-8 text");
        }
        if body.len() % 2 == 1 {
            return Err("is not valid UTF-16 text (an odd number of bytes)");
        }
        let units = body.chunks_exact(2).map(|p| self.unit([p[0], p[1]]));
        let text: String = char::decode_utf16(units)
            .collect::<Result<_, _>>()
            .map_err(|_| "is not valid UTF-16 text (an unpaired surrogate)")?;
        if text.chars().take(4096).any(|c| c == '\0') {
            return Err("is a binary file");
        }
        Ok(text)
    }

    /// The bytes of `text` in this encoding, BOM first.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let mut out = self.bom().to_vec();
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => out.extend_from_slice(text.as_bytes()),
            Encoding::Utf16Le => text
                .encode_utf16()
                .for_each(|u| out.extend(u.to_le_bytes())),
            Encoding::Utf16Be => text
                .encode_utf16()
                .for_each(|u| out.extend(u.to_be_bytes())),
        }
        out
    }

    fn unit(self, pair: [u8; 2]) -> u16 {
        match self {
            Encoding::Utf16Be => u16::from_be_bytes(pair),
            _ => u16::from_le_bytes(pair),
        }
    }
}

/// Reads UTF-16 (after its BOM) as UTF-8, a chunk at a time, so a reader that cuts lines while
/// reading keeps its memory bound. Unpaired surrogates and a trailing odd byte become U+FFFD.
pub struct Utf16Reader<R> {
    inner: R,
    encoding: Encoding,
    /// UTF-8 produced but not yet handed out, from `done` on.
    out: Vec<u8>,
    done: usize,
    /// Bytes of an incomplete code unit or surrogate pair carried to the next chunk.
    carry: Vec<u8>,
    eof: bool,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, encoding: Encoding) -> Self {
        Utf16Reader {
            inner,
            encoding,
            out: Vec::new(),
            done: 0,
            carry: Vec::new(),
            eof: false,
        }
    }

    fn refill(&mut self) -> std::io::Result<()> {
        let mut chunk = std::mem::take(&mut self.carry);
        let start = chunk.len();
        chunk.resize(start + 16 * 1024, 0);
        let n = loop {
            match self.inner.read(&mut chunk[start..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        chunk.truncate(start + n);
        self.eof = n == 0;
        // Keep back an odd byte, and a high surrogate whose partner may be in the next chunk.
        let mut usable = chunk.len() - chunk.len() % 2;
        if !self.eof && usable >= 2 {
            let last = self.encoding.unit([chunk[usable - 2], chunk[usable - 1]]);
            if (0xD800..0xDC00).contains(&last) {
                usable -= 2;
            }
        }
        let units = chunk[..usable]
            .chunks_exact(2)
            .map(|p| self.encoding.unit([p[0], p[1]]));
        self.out.clear();
        self.done = 0;
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out
                .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        if self.eof && usable < chunk.len() {
            self.out
                .extend_from_slice(char::REPLACEMENT_CHARACTER.to_string().as_bytes());
        } else {
            self.carry = chunk[usable..].to_vec();
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.done == self.out.len() {
            if self.eof {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.done);
        buf[..n].copy_from_slice(&self.out[self.done..self.done + n]);
        self.done += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_reads_the_byte_order_mark() {
        assert_eq!(Encoding::sniff(b"\xFF\xFEa\0"), Encoding::Utf16Le);
        assert_eq!(Encoding::sniff(b"\xFE\xFF\0a"), Encoding::Utf16Be);
        assert_eq!(Encoding::sniff(b"\xEF\xBB\xBFa"), Encoding::Utf8Bom);
        assert_eq!(Encoding::sniff(b"plain"), Encoding::Utf8);
        assert_eq!(Encoding::sniff(b"\xFF\xFE\0\0a\0\0\0"), Encoding::Utf8);
    }

    #[test]
    fn utf16_round_trips_in_both_byte_orders() {
        let text = "héllo 𝄞\r\nwörld\n";
        for enc in [Encoding::Utf16Le, Encoding::Utf16Be, Encoding::Utf8Bom] {
            let bytes = enc.encode(text);
            assert!(bytes.starts_with(enc.bom()));
            assert_eq!(enc.decode(&bytes).unwrap(), text, "{enc:?}");
        }
    }

    #[test]
    fn decode_refuses_broken_utf16_and_binary_content() {
        assert!(Encoding::Utf16Le.decode(b"\xFF\xFEa").is_err());
        assert!(Encoding::Utf16Le.decode(b"\xFF\xFE\x00\xD8a\0").is_err());
        assert_eq!(
            Encoding::Utf16Le.decode(b"\xFF\xFEa\0\0\0b\0"),
            Err("is a binary file")
        );
    }

    #[test]
    fn the_reader_gives_utf8_across_chunk_edges_and_surrogate_pairs() {
        // Long enough to cross several 16 KiB chunks, with a 4-byte character at odd offsets.
        let text: String = (0..5000).map(|i| format!("{i}𝄞é\n")).collect();
        for enc in [Encoding::Utf16Le, Encoding::Utf16Be] {
            let bytes = enc.encode(&text);
            let mut out = String::new();
            Utf16Reader::new(&bytes[2..], enc)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
        }
    }

    #[test]
    fn the_reader_replaces_what_cannot_be_decoded() {
        let mut out = String::new();
        Utf16Reader::new(&b"a\0\x00\xD8b\0c"[..], Encoding::Utf16Le)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a\u{FFFD}b\u{FFFD}");
    }
}
