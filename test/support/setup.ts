// The Google client libraries look for the GCE metadata server (169.254.169.254) when they
// resolve credentials or the project. Tests only ever talk to local fakes on 127.0.0.1.
process.env.METADATA_SERVER_DETECTION = 'none';
