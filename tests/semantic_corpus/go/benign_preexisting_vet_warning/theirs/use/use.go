package use

import "example.com/app/core"

const M = core.N + 1
