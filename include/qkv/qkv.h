// qkv/qkv.h — the whole public API in one include.
#pragma once
#include "qkv/autograd/autograd.h"
#include "qkv/core/allocator.h"
#include "qkv/core/cpu.h"
#include "qkv/core/error.h"
#include "qkv/core/rng.h"
#include "qkv/core/tensor.h"
#include "qkv/core/threading.h"
#include "qkv/kernels/gemm.h"
#include "qkv/ops/ops.h"
#include "qkv/version.h"
