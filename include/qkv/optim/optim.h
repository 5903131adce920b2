// qkv/optim/optim.h — all of qkv::optim in one include.
#pragma once
#include "qkv/optim/adam.h"
#include "qkv/optim/clip.h"
#include "qkv/optim/optimizer.h"
#include "qkv/optim/schedule.h"
#include "qkv/optim/sgd.h"
