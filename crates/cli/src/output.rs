//! Printing results for people (`text`) or scripts (`json`, one document on stdout).

use serde::Serialize;

use crate::settings::Output;
use crate::stdout::{out, outln};

pub struct Printer {
    format: Output,
}

fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

impl Printer {
    pub fn new(format: Output) -> Self {
        Printer { format }
    }

    /// An operation's result: its verbose text, or its JSON.
    pub fn op_output(&self, output: &conflux_ops::Output) -> anyhow::Result<()> {
        match self.format {
            Output::Text => out!("{}", output.verbose())?,
            Output::Json => json(&output.to_json())?,
        }
        Ok(())
    }

    pub fn is_json(&self) -> bool {
        self.format == Output::Json
    }

    /// A JSON document as it is (scripts' output).
    pub fn json_value(&self, value: &serde_json::Value) -> anyhow::Result<()> {
        json(value)
    }
}
