// qkv/data/data.h — the data layer in one include: corpora readers, padding and
// masks, collators, samplers and the checkpointed data cursor. It depends on
// core (tensors, Generator) and tokenizers (Encoding) only.
#pragma once
#include "qkv/data/batch.h"
#include "qkv/data/collate.h"
#include "qkv/data/cursor.h"
#include "qkv/data/padding.h"
#include "qkv/data/readers.h"
#include "qkv/data/sampler.h"
