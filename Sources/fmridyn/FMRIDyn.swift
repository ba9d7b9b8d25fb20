import ArgumentParser
import Foundation
import Pipeline

/// The `fmridyn` command: a thin shell over the pipeline modules.
///
/// Exit codes scripts can rely on: 0 success, 1 runtime failure (bad data, I/O),
/// 2 usage error (unknown flag, invalid option value).
@main
struct FMRIDyn: ParsableCommand {
    static let version = FMRIDynVersion.current

    static let configuration = CommandConfiguration(
        commandName: "fmridyn",
        abstract: "Learn low-dimensional latent dynamics from task-fMRI.",
        discussion: """
            Reads task-fMRI (NIfTI, BIDS), extracts and cleans region timeseries, fits a \
            sequential VAE whose latent state evolves as a neural ODE, and reports latent \
            timeseries, fixed points and task decoding.

            Examples:
              fmridyn demo --out demo-out
              fmridyn info --json --stats sub-01_task-motor_bold.nii.gz
              fmridyn extract run.nii.gz --atlas power264 --detrend --standardize zscore --out run.tsv
              fmridyn fit bids_dir --task motor --atlas power264 --out model
              fmridyn latents --model model bids_dir --task motor --out latents.csv
              fmridyn fixed-points --model model --data run.tsv --tr 0.72 --out fixed_points.json
              fmridyn decode latents.csv --groups subject --exclude rest --out decoding.json
            """,
        version: version,
        subcommands: [Demo.self, Simulate.self, Info.self, Extract.self, Events.self, Fit.self, Latents.self, FixedPoints.self, Decode.self, Compare.self, Report.self, BIDSApp.self, Robustness.self, Prune.self, Sparsity.self, Adapt.self, Merge.self, Bench.self]
    )

    static func main() {
        ProcessSetup.prepare()
        do {
            var command = try parseAsRoot()
            do {
                try command.run()
            } catch {
                exit(reporting: error, in: type(of: command))
            }
        } catch {
            exit(reporting: error)
        }
    }

    /// The subcommand names from the root down to `command` (empty for the root itself).
    static func commandPath(to command: any ParsableCommand.Type, from root: any ParsableCommand.Type = FMRIDyn.self) -> [String] {
        for child in root.configuration.subcommands {
            if child == command { return [child._commandName] }
            let below = commandPath(to: command, from: child)
            if !below.isEmpty { return [child._commandName] + below }
        }
        return []
    }

    /// Prints `error` the way its kind deserves and exits with the documented code.
    /// - Parameter command: the subcommand that was running, if parsing had finished.
    static func exit(reporting error: Error, in command: (any ParsableCommand.Type)? = nil) -> Never {
        Foundation.exit(report(error, in: command))
    }

    /// Prints `error` the way its kind deserves and returns the documented exit code.
    static func report(_ error: Error, in command: (any ParsableCommand.Type)? = nil) -> Int32 {
        // A check that needs the inputs (thrown by run, not validate) is the user's mistake too,
        // reported with the subcommand's help hint rather than the root's usage line.
        if let error = error as? ValidationError, let command {
            let name = (["fmridyn"] + commandPath(to: command)).joined(separator: " ")
            FileHandle.standardError.write(Data("Error: \(SettingFlags.rewrite(error.message))\n  See '\(name) --help' for more information.\n".utf8))
            return 2
        }
        let code = exitCode(for: error)
        if code == .success {
            print(fullMessage(for: error))  // --help, --version
            return 0
        }
        if code == .validationFailure {
            FileHandle.standardError.write(Data((SettingFlags.rewrite(fullMessage(for: error)) + "\n").utf8))
            return 2
        }
        // The pipeline's usage errors are the user's settings, reported as a bad option is.
        if let error = error as? PipelineError, error.kind == .usage {
            FileHandle.standardError.write(Data("Error: \(SettingFlags.rewrite(error.message))\n".utf8))
            return 2
        }
        if let exitCode = error as? ExitCode { return exitCode.rawValue }
        FileHandle.standardError.write(Data("error: \(SettingFlags.rewrite("\(error)"))\n".utf8))
        return 1
    }
}
