// swift-tools-version:6.0
// fmridyn: latent dynamics of task-fMRI. The target list mirrors the pipeline
// (docs/architecture.md): C libraries at the bottom, one Swift module per stage,
// and a thin command-line executable on top.
import PackageDescription

let package = Package(
    name: "fmridyn",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fmridyn", targets: ["fmridyn"]),
        .library(name: "NIfTI", targets: ["NIfTI"]),
        .library(name: "Preprocessing", targets: ["Preprocessing"]),
        .library(name: "Core", targets: ["Core"]),
        .library(name: "Dynamics", targets: ["Dynamics"]),
        .library(name: "Model", targets: ["Model"]),
        .library(name: "Simulation", targets: ["Simulation"]),
        .library(name: "Analysis", targets: ["Analysis"]),
        .library(name: "Reporting", targets: ["Reporting"]),
        .library(name: "Sparse", targets: ["Sparse"]),
        .library(name: "Cluster", targets: ["Cluster"]),
        .library(name: "Federation", targets: ["Federation"]),
        .library(name: "RecoveryBenchmark", targets: ["RecoveryBenchmark"]),
        .library(name: "Benchmarks", targets: ["Benchmarks"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
    ],
    targets: [
        // MARK: C libraries (Debian packages; scripts/bootstrap.sh installs them)
        .target(
            name: "CNIfTI",
            linkerSettings: [
                .linkedLibrary("nifti2"), .linkedLibrary("znz"),
                .linkedLibrary("z"), .linkedLibrary("m"),
            ]
        ),
        .systemLibrary(
            name: "CCompression", pkgConfig: "libisal",
            providers: [.apt(["libisal-dev", "zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CLinearAlgebra", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "CFFTW", pkgConfig: "fftw3f",
            providers: [.apt(["libfftw3-dev"])]
        ),
        .systemLibrary(
            name: "CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),

        // MARK: Pipeline stages
        // Dense decompositions over LAPACKE (solve, eigen, least squares), shared by the stages.
        .target(
            name: "LinearAlgebra",
            dependencies: ["CLinearAlgebra"]
        ),
        .target(
            name: "NIfTI",
            dependencies: ["CNIfTI", "CCompression"]
        ),

        .target(
            name: "Core",
            dependencies: ["CLinearAlgebra"]
        ),
        .target(
            name: "Dynamics",
            dependencies: ["Core"]
        ),
        .target(
            name: "Model",
            dependencies: ["Core", "Dynamics", "Preprocessing", "NIfTI", "LinearAlgebra"]
        ),
        .target(
            name: "Sparse",
            dependencies: ["Core"]
        ),
        // Fitting across sites that share parameters, not data (FedAvg, SSFL, SalientGrads).
        .target(
            name: "Federation",
            dependencies: ["Core", "Model", "Sparse"]
        ),
        // Ranks of an MPI job (Open MPI) behind Core's Communicator.
        .target(
            name: "Cluster",
            dependencies: ["Core", "CMPI"]
        ),
        .target(
            name: "Analysis",
            dependencies: ["Core", "Dynamics", "Model", "CLinearAlgebra", "LinearAlgebra"]
        ),
        .target(name: "Reporting"),
        // Scores fitted dynamics against the simulator's ground truth (fmridyn bench recovery).
        .target(
            name: "RecoveryBenchmark",
            dependencies: ["Core", "Dynamics", "Model", "Analysis", "Simulation", "Preprocessing", "LinearAlgebra"]
        ),
        .target(
            name: "Benchmarks",
            dependencies: ["Core", "Dynamics", "Model", "Analysis", "Sparse", "Preprocessing"]
        ),
        .target(
            name: "Simulation",
            dependencies: ["Core", "NIfTI", "Preprocessing", "CLinearAlgebra", "LinearAlgebra"]
        ),
        .target(
            name: "Preprocessing",
            dependencies: [
                "NIfTI", "CLinearAlgebra", "LinearAlgebra", "CFFTW",
                .product(name: "Numerics", package: "swift-numerics"),
                .product(name: "CSV", package: "CSV.swift"),
            ]
        ),

        // The stages chained: sparse set-up, voxel mode, read-outs (latents, fixed points, decoding
        // against baselines, maps) and the report, shared by fit, demo and the BIDS App.
        .target(
            name: "Pipeline",
            dependencies: ["Core", "Model", "Analysis", "Sparse", "Federation", "Cluster", "Reporting", "Preprocessing", "NIfTI", "Simulation", "RecoveryBenchmark"]
        ),

        // MARK: Command-line tool (thin shell over the modules)
        .executableTarget(
            name: "fmridyn",
            dependencies: [
                "NIfTI", "Preprocessing", "Model", "Simulation", "Analysis", "Sparse", "RecoveryBenchmark", "Benchmarks", "Federation", "Pipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "Numerics", package: "swift-numerics")],
            path: "Tests/TestSupport"
        ),
        // Ranks as threads and the small training problem, for the Model and Federation tests.
        .target(
            name: "TrainingTestSupport",
            dependencies: ["Core", "Model", "Preprocessing"],
            path: "Tests/TrainingTestSupport"
        ),
        .testTarget(
            name: "NIfTITests",
            dependencies: ["NIfTI", "CNIfTI", "TestSupport"]
        ),
        .testTarget(
            name: "LinearAlgebraTests",
            dependencies: ["LinearAlgebra", "TestSupport"]
        ),
        .testTarget(
            name: "CoreTests",
            dependencies: ["Core", "TestSupport"]
        ),
        .testTarget(
            name: "DynamicsTests",
            dependencies: ["Dynamics", "Core", "CLinearAlgebra", "TestSupport"]
        ),
        .testTarget(
            name: "ModelTests",
            dependencies: ["Model", "Core", "Dynamics", "LinearAlgebra", "Preprocessing", "TestSupport", "TrainingTestSupport"]
        ),
        .testTarget(
            name: "SparseTests",
            dependencies: ["Sparse", "Core", "TestSupport"]
        ),
        .testTarget(
            name: "AnalysisTests",
            dependencies: ["Analysis", "Core", "Dynamics", "Model", "TestSupport"]
        ),
        .testTarget(
            name: "FederationTests",
            dependencies: ["Federation", "Model", "Sparse", "Core", "TestSupport", "TrainingTestSupport"]
        ),
        .testTarget(
            name: "ReportingTests",
            dependencies: ["Reporting"]
        ),
        .testTarget(
            name: "SimulationTests",
            dependencies: ["Simulation", "Preprocessing", "NIfTI", "Core", "TestSupport"]
        ),
        .testTarget(
            name: "RecoveryBenchmarkTests",
            dependencies: ["RecoveryBenchmark", "Simulation", "Model", "Analysis", "Core", "LinearAlgebra", "TestSupport"]
        ),
        .testTarget(
            name: "PreprocessingTests",
            dependencies: ["Preprocessing", "TestSupport"]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "Analysis", "Model", "Core", "NIfTI", "Sparse", "TestSupport", "TrainingTestSupport"]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["fmridyn", "Pipeline", "Model", "Core", "Dynamics", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
