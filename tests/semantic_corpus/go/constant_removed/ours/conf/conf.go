package conf

const Limit = 10
