// The platform floor for the benchmark: a Worker that sends back what it gets.
onmessage = ({ data }) => postMessage(data);
