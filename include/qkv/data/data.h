// qkv/data/data.h — the data layer in one include: corpora readers, padding and
// masks, collators, samplers and the checkpointed data cursor, and BERT's
// pretraining data (corpus, NSP instances, MLM masking, sampler). It depends on
// core (tensors, Generator) and tokenizers (Encoding, Tokenizer) only.
#pragma once
#include "qkv/data/batch.h"
#include "qkv/data/collate.h"
#include "qkv/data/cursor.h"
#include "qkv/data/mlm.h"
#include "qkv/data/padding.h"
#include "qkv/data/pretraining_corpus.h"
#include "qkv/data/pretraining_instances.h"
#include "qkv/data/pretraining_sampler.h"
#include "qkv/data/readers.h"
#include "qkv/data/sampler.h"
