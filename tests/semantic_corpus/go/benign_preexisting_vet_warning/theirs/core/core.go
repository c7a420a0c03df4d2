package core

const N = 1
