// qkv/viz/viz.h — PNG/SVG heatmaps and line plots.
#pragma once
#include "qkv/viz/plot.h"
#include "qkv/viz/png.h"
