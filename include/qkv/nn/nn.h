// qkv/nn/nn.h — all of qkv::nn in one include.
#pragma once
#include "qkv/nn/attention.h"
#include "qkv/nn/kv_cache.h"
#include "qkv/nn/transformer_layer.h"
#include "qkv/nn/init.h"
#include "qkv/nn/layers.h"
#include "qkv/nn/module.h"
#include "qkv/nn/param_groups.h"
#include "qkv/nn/positional.h"
