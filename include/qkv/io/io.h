// qkv/io/io.h — files on disk: atomic writes, JSON configs, safetensors.
#pragma once
#include "qkv/io/file.h"
#include "qkv/io/json.h"
#include "qkv/io/safetensors.h"
