// Hugging Face tokenizers' BpeTrainer, reached through the npm binding (HF's own
// `tokenizers` 0.23.x, native binaries inside the npm package; `@anush008/tokenizers`
// has the same API). Used by bench/tokenizers/compression.sh.
//
//   NODE_PATH=/tmp/tokpeer-hf/node_modules node hf_bpe_train.mjs TRAIN.txt VOCAB OUT.json [VAL.txt]
//
// The node binding has no BpeTrainer constructor: Tokenizer.train(files) runs the
// model's default trainer, BpeTrainer::default() = vocab_size 30000, min_frequency 0,
// no special tokens, initial alphabet = the characters seen. The trainer is greedy
// and checks the vocabulary size only before each merge, so its first K merges are
// exactly what BpeTrainer(vocab_size = alphabet + K) would produce (the alphabet is
// sorted by code point and merged tokens get ids in creation order, so tie-breaks
// between equal counts are the same too). This script therefore trains to 30000 and
// keeps the first VOCAB - 256 merges over the 256-symbol byte-level alphabet: the
// same as BpeTrainer(vocab_size=VOCAB, initial_alphabet=ByteLevel.alphabet(),
// min_frequency=0), GPT-2 byte-level pre-tokenizer without prefix space.
// Prints JSON: {train_s, merges_trained, merges_kept, last_kept_merge, [val_bytes, val_tokens]}.
import fs from "fs";
import { createRequire } from "module";
const require = createRequire(process.env.NODE_PATH + "/");
let hf;
for (const name of ["tokenizers", "@anush008/tokenizers"]) {
  try { hf = require(name); hf.__name = name; break; } catch { /* next */ }
}
if (!hf) throw new Error("neither `tokenizers` nor `@anush008/tokenizers` under NODE_PATH=" + process.env.NODE_PATH);
const { Tokenizer, BPE, byteLevelPreTokenizer, byteLevelAlphabet } = hf;
const [,, trainFile, vocabArg, outJson, valFile] = process.argv;
const vocab = Number(vocabArg);

const tok = new Tokenizer(BPE.empty());
tok.setPreTokenizer(byteLevelPreTokenizer(false, true));
const t0 = performance.now();
tok.train([trainFile]);
const trainS = (performance.now() - t0) / 1e3;

tok.save(outJson + ".full.json");
const full = JSON.parse(fs.readFileSync(outJson + ".full.json", "utf8"));
const merges = full.model.merges.map((m) => (Array.isArray(m) ? m : m.split(" ")));
const alphabet = byteLevelAlphabet();
const keep = merges.slice(0, vocab - alphabet.length);
const v = {};
let nv = 0;
for (const c of [...alphabet].sort()) v[c] = nv++;
for (const [a, b] of keep) if (!(a + b in v)) v[a + b] = nv++;
full.model.vocab = v;
full.model.merges = keep;
full.added_tokens = [];
fs.writeFileSync(outJson, JSON.stringify(full));
const out = { peer: hf.__name, train_s: +trainS.toFixed(3), merges_trained: merges.length, merges_kept: keep.length,
              vocab: nv, last_kept_merge: keep[keep.length - 1] };
if (valFile) {
  const t = Tokenizer.fromString(fs.readFileSync(outJson, "utf8"));
  const text = fs.readFileSync(valFile, "utf8");
  out.val_bytes = Buffer.byteLength(text);
  out.val_tokens = (await t.encode(text, null, { addSpecialTokens: false })).getIds().length;
}
console.log(JSON.stringify(out));
