package core

const N = 2
