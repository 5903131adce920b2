// Tokenizer::encode_streamed: long texts (a 100 MB line) encoded piece by
// piece, so memory follows the piece, not the text (see tokenizer.h).
//
// encode() of a whole text holds, per input byte, the normalized text with two
// alignment offsets, the word spans, and per token an id, a string and an
// offset pair: a few hundred bytes per input byte, 23 GB for 100 MB. Cut at
// places where the pipeline splits anyway, the pieces encode to the same
// tokens as the whole.
#include <algorithm>
#include <cstdint>
#include <string>

#include "qkv/core/error.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::tokenizers {

namespace {

bool ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Normalizers that map each character on its own: a space between two ASCII
// letters/digits stays a space, and nothing composes across it (NFC/NFKC
// compose a mark with the character before it, here an ASCII one).
bool per_character(const Normalizer& n) {
  using K = Normalizer::Kind;
  switch (n.kind) {
    case K::Bert: case K::NFC: case K::NFD: case K::NFKC: case K::NFKD: case K::Lowercase: case K::StripAccents:
      return true;
    case K::Sequence:
      return std::all_of(n.children.begin(), n.children.end(), per_character);
    default:  // Strip and Prepend act on the ends of the text, Replace on patterns that may hold a space
      return false;
  }
}

// Pre-tokenizers that end a word at such a space. ByteLevel's GPT-2 regex
// gives "…x" | " y…" (the space opens the next word, ' ?\p{L}+'; no pattern
// runs across "x y"), and its add_prefix_space adds nothing to a piece that
// starts with the space; without the regex the whole text is one word.
// Bert, Whitespace (\w+|[^\w\s]+) and WhitespaceSplit drop the space. A
// Sequence only splits further, so one child that splits is enough.
bool splits_at_spaces(const PreTokenizer& p) {
  using K = PreTokenizer::Kind;
  switch (p.kind) {
    case K::ByteLevel: return p.use_regex;
    case K::Bert: case K::Whitespace: case K::WhitespaceSplit: return true;
    case K::Sequence:
      return std::any_of(p.children.begin(), p.children.end(), splits_at_spaces);
    default:  // Digits and Punctuation alone leave "a b" whole
      return false;
  }
}

// Where the piece starting at `start` of the segment [start, end) ends: the
// first ' ' at or after start + chunk with an ASCII letter/digit on both
// sides, or the segment's end. A piece over max_piece bytes is refused.
size_t piece_end(std::string_view text, size_t start, size_t end, bool can_cut,
                 const Tokenizer::StreamOptions& o) {
  if (end - start <= std::min(std::max<size_t>(o.chunk_bytes, 1), o.max_piece_bytes)) return end;
  size_t cut = end;
  if (can_cut) {
    const size_t limit = std::min(end, start + o.max_piece_bytes + 1);  // a cut at limit - 1 keeps the piece within max
    for (size_t i = std::max(start + o.chunk_bytes, start + 1); i + 1 < limit; ++i)
      if (text[i] == ' ' && ascii_alnum(text[i - 1]) && ascii_alnum(text[i + 1])) {
        cut = i;
        break;
      }
  }
  if (cut - start > o.max_piece_bytes)
    throw ValueError("text of " + std::to_string(text.size()) + " bytes: " +
                     (can_cut ? "bytes " + std::to_string(start + o.chunk_bytes) + ".." + std::to_string(start + o.max_piece_bytes) +
                                    " hold no space between two ASCII letters or digits, where it could be encoded in pieces"
                              : std::string("this tokenizer's normalizer or pre-tokenizer cannot be encoded in pieces")) +
                     "; at most " + std::to_string(o.max_piece_bytes) + " bytes are encoded at once");
  return cut;
}

}  // namespace

bool Tokenizer::streamable() const {
  return (!normalizer || per_character(*normalizer)) && pre_tokenizer && splits_at_spaces(*pre_tokenizer);
}

void Tokenizer::encode_streamed(std::string_view text, const StreamOptions& options,
                                const std::function<void(const Encoding&)>& fn) const {
  if (text.size() > UINT32_MAX)  // offsets are 32-bit
    throw ValueError("text of " + std::to_string(text.size()) + " bytes: at most 4 GiB - 1 can be encoded");
  std::vector<Segment> segments;
  split_added(text, options.encode.parse_special, segments);
  const bool can_cut = streamable();
  // Every piece is checked first, so that a refused text writes nothing.
  for (const Segment& s : segments)
    if (s.added_id < 0)
      for (size_t start = s.start; start < s.end;) start = piece_end(text, start, s.end, can_cut, options);

  // The post-processor's template around the text: its special tokens before
  // $A, and after it. Each piece gets the rest of post_process (ByteLevel's
  // offset trimming), which works token by token.
  const PostProcessor* p = post_processor ? &*post_processor : nullptr;
  Encoding specials, before, after;
  if (p && options.encode.add_special_tokens && p->kind != PostProcessor::Kind::ByteLevel) {
    specials = post_process(p, Encoding{}, nullptr, true);
    size_t n_before = 0;
    for (const TemplatePiece& t : p->single) {
      if (t.is_sequence) break;
      n_before += p->special_tokens.at(t.name).ids.size();
    }
    n_before = std::min(n_before, specials.size());
    auto slice = [&](size_t from, size_t to) {
      Encoding e;
      e.ids.assign(specials.ids.begin() + long(from), specials.ids.begin() + long(to));
      e.tokens.assign(specials.tokens.begin() + long(from), specials.tokens.begin() + long(to));
      e.offsets.assign(specials.offsets.begin() + long(from), specials.offsets.begin() + long(to));
      return e;
    };
    before = slice(0, n_before);
    after = slice(n_before, specials.size());
  }
  if (!before.ids.empty()) fn(before);

  Encoding piece;
  auto flush = [&] {
    if (piece.ids.empty()) return;
    fn(post_process(p, std::move(piece), nullptr, false));
    piece = Encoding{};
  };
  for (const Segment& s : segments) {
    if (s.added_id >= 0) {
      piece.ids.push_back(s.added_id);
      piece.tokens.emplace_back(text.substr(s.start, s.end - s.start));
      piece.offsets.push_back({s.start, s.end});
      if (piece.ids.size() >= options.chunk_bytes / 8 + 1) flush();
      continue;
    }
    for (size_t start = s.start; start < s.end;) {
      const size_t end = piece_end(text, start, s.end, can_cut, options);
      encode_text(text.substr(start, end - start), uint32_t(start), true, piece);
      if (piece.ids.size() * 8 >= options.chunk_bytes) flush();  // small segments between added tokens gather
      start = end;
    }
  }
  flush();
  if (!after.ids.empty()) fn(after);
}

}  // namespace qkv::tokenizers
