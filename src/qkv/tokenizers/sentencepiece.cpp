// A SentencePiece model file as a Tokenizer's model stage (see
// qkv/tokenizers/sentencepiece.h): libsentencepiece encodes and decodes.
#include "qkv/tokenizers/sentencepiece.h"

#include <sentencepiece_processor.h>

#include "file_util.h"
#include "qkv/core/error.h"
#include "qkv/tokenizers/tokenizer.h"

namespace qkv::tokenizers {

struct SentencePieceModel::Impl {
  sentencepiece::SentencePieceProcessor sp;
};

SentencePieceModel::SentencePieceModel(std::string serialized, const std::string& source)
    : impl_(std::make_unique<Impl>()), serialized_(std::move(serialized)) {
  const auto status = impl_->sp.LoadFromSerializedProto(serialized_);
  if (!status.ok())
    throw ValueError(source + ": not a SentencePiece model (libsentencepiece: " + status.ToString() + ")");
  const int n = impl_->sp.GetPieceSize();
  if (n <= 0) throw ValueError(source + ": the SentencePiece model has no pieces");
  if (int64_t(n) > detail::kMaxTokenId)
    throw ValueError(source + ": " + std::to_string(n) + " pieces, more than qkv's limit of " +
                     std::to_string(detail::kMaxTokenId));
  for (int id = 0; id < n; ++id) vocab_.add(impl_->sp.IdToPiece(id), id, source);
}

SentencePieceModel::~SentencePieceModel() = default;

void SentencePieceModel::tokenize(std::string_view text, std::vector<Piece>& out) const {
  const sentencepiece::ImmutableSentencePieceText r = impl_->sp.EncodeAsImmutableProto(text);
  for (size_t i = 0; i < r.pieces_size(); ++i) {
    const auto p = r.pieces(int(i));
    out.push_back({int32_t(p.id()), p.begin(), p.end()});
  }
}

std::string SentencePieceModel::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> v(ids.begin(), ids.end());
  return impl_->sp.DecodeIds(v);
}

int64_t SentencePieceModel::bos_id() const { return impl_->sp.bos_id(); }
int64_t SentencePieceModel::eos_id() const { return impl_->sp.eos_id(); }
int64_t SentencePieceModel::unk_id() const { return impl_->sp.unk_id(); }
bool SentencePieceModel::is_control(int64_t id) const { return impl_->sp.IsControl(int(id)); }

Tokenizer sentencepiece_tokenizer(const std::string& path) {
  auto model = std::make_shared<SentencePieceModel>(detail::read_file(path), path);
  Tokenizer t;
  t.model = model;
  // <unk> and the control symbols (<s>, </s>, <pad>, …) as special tokens,
  // as Hugging Face's Llama tokenizer registers them.
  for (int64_t id = 0; id < model->vocab().id_bound(); ++id)
    if (id == model->unk_id() || model->is_control(id)) t.add_token(*model->vocab().token(id), true);
  if (const int64_t bos = model->bos_id(); bos >= 0) {
    const std::string& s = *model->vocab().token(bos);
    PostProcessor p;
    p.single = {{false, s, 0}, {true, "A", 0}};
    p.pair = {{false, s, 0}, {true, "A", 0}, {false, s, 1}, {true, "B", 1}};
    p.special_tokens[s] = {{bos}, {s}};
    t.post_processor = std::move(p);
  }
  return t;
}

}  // namespace qkv::tokenizers
