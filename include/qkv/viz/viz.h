// qkv/viz/viz.h — plots as PNG, SVG or PDF (see plot.h).
#pragma once
#include "qkv/viz/plot.h"
