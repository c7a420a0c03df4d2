package conf

const MaxItems = 10
