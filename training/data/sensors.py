"""Clouds from meshes: uniform surface samples, and sensor rigs as robots carry them.

A *sensor* is a device as its public datasheet describes it (beam elevations, rotation rate,
points per second, range, range noise; a depth camera's field of view, resolution and noise). A
*rig* is a sensor mounted somewhere: on a car roof at a driving dataset's height, on a ground
robot, on an indoor robot or arm. Objects and scenes name rigs (``RIGS``).

Both sensor kinds cast real rays against the meshes (open3d ``RaycastingScene``), so partial
views, self-occlusion and the thinning of returns with range come from geometry. On top of it:
- range noise from the datasheet's accuracy figure;
- returns dropped by a link budget: a Lambertian target of reflectivity rho at incidence theta
  returns like a datasheet target (80 %) at ``max_range * sqrt(rho cos(theta) / 0.8)``
  (inverse-square law), so dark surfaces, far objects and grazing faces thin out together;
- glass (``RayScene.add(..., glass=True)``) returns a ray only near normal incidence and lets
  the rest through to whatever lies behind;
- a random dropout floor.
All randomness comes from the caller's numpy Generator, drawn a fixed number of times per ray,
so a scan is reproducible and two scans of the same rays can be compared ray by ray.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import open3d as o3d

from training.data.mesh import Mesh

# Datasheet maximum ranges are quoted for a target of this reflectivity at normal incidence.
DATASHEET_REFLECTIVITY = 0.8
# Glass returns a ray with probability GLASS_RETURN * cos(theta)^GLASS_SHARPNESS (a specular
# glint near normal incidence); every other ray passes through.
GLASS_RETURN = 0.1
GLASS_SHARPNESS = 20
GLASS_LAYERS = 4  # a car: near window, far window; a glass box: four panels at most in line


@dataclass(frozen=True)
class LidarModel:
    """A spinning multi-beam LiDAR as its datasheet gives it. Angles in degrees, lengths in m."""

    name: str
    description: str
    elevations_deg: tuple[float, ...]  # one per beam, as the datasheet lists them (any order)
    rotation_hz: float
    points_per_second: float  # single return, all beams together
    max_range_m: float  # for an 80 % reflective target at normal incidence
    range_noise_m: float  # 1 sigma
    min_range_m: float = 0.5
    dropout: float = 0.02  # returns lost whatever the target (floor of the link budget)

    @property
    def beams(self) -> int:
        return len(self.elevations_deg)

    @property
    def azimuth_step_deg(self) -> float:
        """Horizontal angle between two firings of one beam: rotation rate / firing rate."""
        return 360.0 * self.rotation_hz * self.beams / self.points_per_second

    def elevations(self) -> np.ndarray:
        """Beam elevation angles in radians, lowest first (ring 0 is the lowest beam)."""
        return np.radians(np.sort(np.asarray(self.elevations_deg, dtype=np.float64)))


@dataclass(frozen=True)
class DepthCamera:
    """A depth camera: pinhole image at a real resolution mode, with its noise model.

    ``noise`` is "stereo" (sigma = z^2 * subpixel / (focal_px * baseline), active stereo like a
    RealSense) or "tof" (sigma = a + b * z, time of flight like an Azure Kinect).
    """

    name: str
    description: str
    width_px: int
    height_px: int
    hfov_deg: float
    vfov_deg: float
    min_range_m: float
    max_range_m: float
    noise: str
    baseline_m: float = 0.0  # stereo
    subpixel_rms: float = 0.0  # stereo: disparity noise in pixels
    noise_a_m: float = 0.0  # tof
    noise_b: float = 0.0  # tof, per metre of depth
    dropout: float = 0.02

    @property
    def focal_px(self) -> float:
        return (self.width_px / 2) / np.tan(np.radians(self.hfov_deg) / 2)

    def depth_sigma(self, depth: np.ndarray) -> np.ndarray:
        """1-sigma depth noise in metres at ``depth`` metres."""
        if self.noise == "stereo":
            return depth**2 * self.subpixel_rms / (self.focal_px * self.baseline_m)
        return self.noise_a_m + self.noise_b * depth


def _hdl64e_elevations() -> tuple[float, ...]:
    # HDL-64E S2 manual: an upper block of 32 lasers from +2 deg down at 1/3 deg spacing and a
    # lower block of 32 from -8.83 deg down at 1/2 deg spacing (26.9 deg in all).
    upper = [2.0 - k / 3 for k in range(32)]
    lower = [-8.83 - k / 2 for k in range(32)]
    return tuple(round(e, 3) for e in upper + lower)


# VLP-32C manual, laser table in firing order: 32 beams from -25 to +15 deg, packed at 1/3 deg
# between -5.3 and +1.7 deg (where a car's obstacles are), sparse above and below.
# fmt: off
_VLP32C_ELEVATIONS = (
    -25.0, -1.0, -1.667, -15.639, -11.31, 0.0, -0.667, -8.843, -7.254, 0.333, -0.333, -6.148,
    -5.333, 1.333, 0.667, -4.0, -4.667, 1.667, 1.0, -3.667, -3.333, 3.333, 2.333, -2.667, -3.0,
    7.0, 4.667, -2.333, -2.0, 15.0, 10.333, -1.333,
)
# fmt: on

# Public datasheet figures (nominal; single-return mode).
LIDAR_MODELS: dict[str, LidarModel] = {
    m.name: m
    for m in (
        LidarModel(
            "hdl-64e",
            "Velodyne HDL-64E S2 (the KITTI car's LiDAR), 10 Hz",
            _hdl64e_elevations(),
            rotation_hz=10.0,
            points_per_second=1.333e6,
            max_range_m=120.0,
            range_noise_m=0.02,
            min_range_m=0.9,
        ),
        LidarModel(
            "hdl-32e",
            "Velodyne HDL-32E (nuScenes' LiDAR), 20 Hz",
            tuple(round(10.67 - k * 41.34 / 31, 3) for k in range(32)),
            rotation_hz=20.0,
            points_per_second=695e3,
            max_range_m=100.0,
            range_noise_m=0.02,
            min_range_m=1.0,
        ),
        LidarModel(
            "os1-128",
            "Ouster OS1-128 (uniform beams, 45 deg), 2048 x 10 Hz",
            tuple(round(-22.5 + k * 45.0 / 127, 3) for k in range(128)),
            rotation_hz=10.0,
            points_per_second=2048 * 10 * 128,
            max_range_m=120.0,
            range_noise_m=0.03,
            min_range_m=0.3,
        ),
        LidarModel(
            "vlp-16",
            "Velodyne VLP-16 Puck, 10 Hz",
            tuple(float(-15 + 2 * k) for k in range(16)),
            rotation_hz=10.0,
            points_per_second=300e3,
            max_range_m=100.0,
            range_noise_m=0.03,
            min_range_m=0.5,
        ),
        LidarModel(
            "vlp-32c",
            "Velodyne VLP-32C Ultra Puck (beams packed near the horizon), 10 Hz",
            _VLP32C_ELEVATIONS,
            rotation_hz=10.0,
            points_per_second=600e3,
            max_range_m=200.0,
            range_noise_m=0.03,
            min_range_m=1.0,
        ),
    )
}

DEPTH_CAMERAS: dict[str, DepthCamera] = {
    c.name: c
    for c in (
        DepthCamera(
            "d435",
            "Intel RealSense D435 depth at 424 x 240 (active stereo, 50 mm baseline)",
            424,
            240,
            hfov_deg=87.0,
            vfov_deg=58.0,
            min_range_m=0.2,
            max_range_m=10.0,
            noise="stereo",
            baseline_m=0.05,
            subpixel_rms=0.08,
            dropout=0.03,
        ),
        DepthCamera(
            "azure-kinect",
            "Azure Kinect DK depth, NFOV 2x2 binned 320 x 288 (time of flight)",
            320,
            288,
            hfov_deg=75.0,
            vfov_deg=65.0,
            min_range_m=0.5,
            max_range_m=5.46,
            noise="tof",
            noise_a_m=0.002,
            noise_b=0.0015,
            dropout=0.01,
        ),
    )
}


@dataclass(frozen=True)
class Rig:
    """A sensor as a robot carries it: which device, where, and what it meets.

    ``setting`` is "road" (a car or a robot outdoors) or "indoor"; objects of a category are
    seen by the rigs of the settings their encounter allows (``training.data.views``).
    """

    name: str
    sensor: LidarModel | DepthCamera
    mount_height_m: tuple[float, float]
    carrier: str
    settings: tuple[str, ...]

    @property
    def kind(self) -> str:
        return "lidar" if isinstance(self.sensor, LidarModel) else "depth"


RIGS: dict[str, Rig] = {
    r.name: r
    for r in (
        Rig("car-64", LIDAR_MODELS["hdl-64e"], (1.70, 1.76), "car roof (KITTI)", ("road",)),
        Rig("car-32", LIDAR_MODELS["hdl-32e"], (1.78, 1.90), "car roof (nuScenes)", ("road",)),
        Rig("car-128", LIDAR_MODELS["os1-128"], (1.80, 2.10), "car roof", ("road",)),
        Rig("robot-16", LIDAR_MODELS["vlp-16"], (0.3, 1.0), "ground robot", ("road", "indoor")),
        Rig("robot-32", LIDAR_MODELS["vlp-32c"], (0.3, 1.0), "ground robot", ("road", "indoor")),
        Rig("robot-d435", DEPTH_CAMERAS["d435"], (0.3, 1.5), "indoor robot or arm", ("indoor",)),
        Rig(
            "robot-kinect",
            DEPTH_CAMERAS["azure-kinect"],
            (0.3, 1.5),
            "indoor robot or arm",
            ("indoor",),
        ),
    )
}


def rig(name: str) -> Rig:
    """The rig called ``name``."""
    if name not in RIGS:
        raise ValueError(f"unknown rig {name!r}; expected one of {', '.join(RIGS)}")
    return RIGS[name]


def detection_probability(
    ranges: np.ndarray,
    cos_incidence: np.ndarray,
    reflectivity: np.ndarray,
    max_range_m: float,
    dropout: float,
) -> np.ndarray:
    """Chance that a return at ``ranges`` is reported (link budget with a soft edge, see top)."""
    signal = np.clip(reflectivity * cos_incidence, 1e-6, None) / DATASHEET_REFLECTIVITY
    reach = max_range_m * np.sqrt(signal)
    edge = np.clip((ranges - reach) / (0.08 * reach), -50.0, 50.0)
    return (1.0 - dropout) / (1.0 + np.exp(edge))


@dataclass
class Scan:
    """Points (N, 3) float32 in the caller's frame, with ring (or pixel row) and hit mesh id."""

    points: np.ndarray
    rings: np.ndarray
    geometry_ids: np.ndarray
    ranges: np.ndarray
    # For each ray an occluder stopped that would otherwise have been reported: the mesh id it
    # would have come back from (see the ``occluders`` of ``lidar_scan``).
    occluded_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @staticmethod
    def empty() -> Scan:
        return Scan(
            np.zeros((0, 3), np.float32),
            np.zeros(0, np.uint16),
            np.zeros(0, np.int64),
            np.zeros(0, np.float32),
        )


@dataclass
class RayHits:
    """First reported surface per ray: distance (inf: none), mesh id (-1: none), cos incidence."""

    t: np.ndarray
    geometry_ids: np.ndarray
    cos_incidence: np.ndarray


@dataclass
class RayScene:
    """Meshes to cast rays at; each has a reflectivity and may be glass. Ids count from 0."""

    reflectivity: list[float] = field(default_factory=list)
    glass: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._scene = o3d.t.geometry.RaycastingScene()

    def add(self, mesh: Mesh, reflectivity: float = 0.5, glass: bool = False) -> int:
        """Add a mesh; returns its geometry id (the order of calls)."""
        if not 0.0 < reflectivity <= 1.0:
            raise ValueError(f"reflectivity must be in (0, 1], got {reflectivity}")
        self._scene.add_triangles(
            o3d.core.Tensor(mesh.vertices.astype(np.float32)),
            o3d.core.Tensor(mesh.triangles.astype(np.uint32)),
        )
        self.reflectivity.append(reflectivity)
        self.glass.append(glass)
        return len(self.reflectivity) - 1

    def _first_hits(self, origins: np.ndarray, directions: np.ndarray):
        rays = np.concatenate([origins, directions], axis=1).astype(np.float32)
        hits = self._scene.cast_rays(o3d.core.Tensor(rays))
        t = hits["t_hit"].numpy().astype(np.float64)
        ids = hits["geometry_ids"].numpy().astype(np.int64)
        ids[~np.isfinite(t)] = -1
        cos = np.abs(np.sum(hits["primitive_normals"].numpy() * directions, axis=1))
        return t, ids, cos

    def cast(
        self,
        origins: np.ndarray,
        directions: np.ndarray,
        glass_draws: np.ndarray,
        hidden: frozenset[int] = frozenset(),
    ) -> RayHits:
        """Cast unit-direction rays; glass and ``hidden`` meshes let rays through.

        ``glass_draws`` (GLASS_LAYERS, N) uniform numbers decide which glass hits return. The
        result depends only on the rays and the draws, so recasting some rays with an occluder
        hidden gives exactly what they would have hit without it.
        """
        origins = np.asarray(origins, dtype=np.float64)
        t, ids, cos = self._first_hits(origins, directions)
        is_glass = np.array([*self.glass, False])  # index -1 (no hit) maps to False
        is_hidden = np.array([*(i in hidden for i in range(len(self.glass))), False])
        travelled = np.zeros(len(t))
        panes = np.zeros(len(t), dtype=np.int64)  # glass panes each ray has passed so far
        columns = np.arange(len(t))
        for _layer in range(GLASS_LAYERS + len(hidden)):
            glint = GLASS_RETURN * cos**GLASS_SHARPNESS
            draw = glass_draws[np.minimum(panes, GLASS_LAYERS - 1), columns]
            through_glass = is_glass[ids] & (draw >= glint)
            through = is_hidden[ids] | through_glass
            if not through.any():
                break
            panes += through_glass
            rows = np.flatnonzero(through)
            travelled[rows] += t[rows] + 1e-3
            sub_t, sub_ids, sub_cos = self._first_hits(
                origins[rows] + directions[rows] * travelled[rows, None], directions[rows]
            )
            t[rows], ids[rows], cos[rows] = sub_t, sub_ids, sub_cos
        t = np.where(ids >= 0, t + travelled, np.inf)
        return RayHits(t, ids, cos)

    def reflectivity_of(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray([*self.reflectivity, 1.0])[ids]


def scene_of(meshes: list[Mesh], reflectivity: float = 0.5) -> RayScene:
    """A scene of opaque meshes of one reflectivity; geometry id ``i`` is ``meshes[i]``."""
    scene = RayScene()
    for mesh in meshes:
        scene.add(mesh, reflectivity)
    return scene


def sample_surface(mesh: Mesh, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points uniformly distributed over the mesh surface (area-weighted), float32."""
    if count <= 0:
        raise ValueError(f"surface sample count must be positive, got {count}")
    areas = mesh.triangle_areas()
    total = areas.sum()
    if not total > 0:
        raise ValueError(
            "cannot sample a mesh with zero surface area; expected a non-degenerate mesh"
        )
    tri = rng.choice(len(areas), size=count, p=areas / total)
    u, v = rng.random(count), rng.random(count)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    a, b, c = (mesh.vertices[mesh.triangles[tri, i]] for i in range(3))
    return (a + (b - a) * u[:, None] + (c - a) * v[:, None]).astype(np.float32)


def _measure(
    scene: RayScene,
    origins: np.ndarray,
    directions: np.ndarray,
    rng: np.random.Generator,
    range_noise,
    max_range_m: float,
    dropout: float,
    occluders: frozenset[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(noisy range, geometry id, reported mask, occluded ids) per ray; fixed draws per ray.

    ``range_noise`` is a 1-sigma in metres or a function of the true range giving one. Rays that
    stop on an ``occluders`` mesh are cast again through it (same draws): the ids of those that
    would then have been reported are the occluded ids.
    """
    n = len(directions)
    glass_draws = rng.random((GLASS_LAYERS, n))
    noise = rng.normal(0.0, 1.0, n)
    detect_draws = rng.random(n)

    def reported(hits: RayHits, draws: np.ndarray) -> np.ndarray:
        hit = hits.geometry_ids >= 0
        p = detection_probability(
            np.where(hit, hits.t, 0.0),
            hits.cos_incidence,
            scene.reflectivity_of(hits.geometry_ids),
            max_range_m,
            dropout,
        )
        return hit & (draws < p)

    hits = scene.cast(origins, directions, glass_draws)
    safe_t = np.where(hits.geometry_ids >= 0, hits.t, 0.0)
    sigma = range_noise(safe_t) if callable(range_noise) else range_noise
    occluded = np.zeros(0, np.int64)
    if occluders:
        rows = np.flatnonzero(np.isin(hits.geometry_ids, list(occluders)))
        behind = scene.cast(origins[rows], directions[rows], glass_draws[:, rows], occluders)
        occluded = behind.geometry_ids[reported(behind, detect_draws[rows])]
    return safe_t + noise * sigma, hits.geometry_ids, reported(hits, detect_draws), occluded


def lidar_scan(
    scene: RayScene,
    position,
    yaw: float,
    model: LidarModel,
    rng: np.random.Generator,
    azimuth_window: tuple[float, float] | None = None,
    elevation_window: tuple[float, float] | None = None,
    azimuth_phase: float = 0.0,
    occluders: frozenset[int] = frozenset(),
) -> Scan:
    """One sweep from a LiDAR at ``position`` heading ``yaw`` (radians about z), world frame.

    ``azimuth_window`` / ``elevation_window`` (radians, relative to the sensor) restrict the rays
    to a sector: an object-only scan then costs a fraction of a full sweep and gives the same
    points a full sweep would have returned on that object. ``azimuth_phase`` (radians, in
    [0, one azimuth step)) is where the firing grid starts: a real sensor's grid has no reason
    to line up with an object. ``occluders``: meshes whose hidden part of the scene the scan
    reports in ``occluded_ids``.
    """
    az_step = np.radians(model.azimuth_step_deg)
    if azimuth_window is None:
        azimuths = np.arange(-np.pi, np.pi, az_step) + azimuth_phase
    else:
        lo, hi = azimuth_window
        first, last = (
            np.floor((lo - azimuth_phase) / az_step),
            np.ceil((hi - azimuth_phase) / az_step),
        )
        azimuths = np.arange(first, last + 1) * az_step + azimuth_phase
    elevations = model.elevations()
    rings = np.arange(model.beams)
    if elevation_window is not None:
        keep = (elevations >= elevation_window[0]) & (elevations <= elevation_window[1])
        elevations, rings = elevations[keep], rings[keep]
    if len(elevations) == 0 or len(azimuths) == 0:
        return Scan.empty()
    az, el = np.meshgrid(azimuths + yaw, elevations)
    ring_grid = np.broadcast_to(rings[:, None], az.shape).reshape(-1)
    directions = np.stack(
        [np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1
    ).reshape(-1, 3)
    origins = np.broadcast_to(np.asarray(position, dtype=np.float64), directions.shape)
    noisy, ids, keep, occluded = _measure(
        scene,
        origins,
        directions,
        rng,
        model.range_noise_m,
        model.max_range_m,
        model.dropout,
        occluders,
    )
    keep &= (noisy >= model.min_range_m) & (noisy <= model.max_range_m)
    points = origins[keep] + directions[keep] * noisy[keep, None]
    return Scan(
        points.astype(np.float32),
        ring_grid[keep].astype(np.uint16),
        ids[keep],
        noisy[keep].astype(np.float32),
        occluded,
    )


def camera_basis(eye, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(forward, right, up) unit vectors of a camera at ``eye`` looking at ``target``, z up."""
    forward = np.asarray(target, dtype=np.float64) - np.asarray(eye, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, (0.0, 0.0, 1.0))
    right /= np.linalg.norm(right)
    return forward, right, np.cross(right, forward)


def pixel_window(camera: DepthCamera, eye, target, points: np.ndarray) -> tuple[int, int, int, int]:
    """(col0, col1, row0, row1), end exclusive: the image rectangle ``points`` project into.

    Points behind the camera widen the window to the whole image.
    """
    forward, right, up = camera_basis(eye, target)
    rel = np.asarray(points, dtype=np.float64) - np.asarray(eye, dtype=np.float64)
    z = rel @ forward
    if (z <= 0.05).any():
        return 0, camera.width_px, 0, camera.height_px
    cols = camera.focal_px * (rel @ right) / z + (camera.width_px - 1) / 2
    rows = -camera.focal_px * (rel @ up) / z + (camera.height_px - 1) / 2
    return (
        int(np.clip(np.floor(cols.min()), 0, camera.width_px)),
        int(np.clip(np.ceil(cols.max()) + 1, 0, camera.width_px)),
        int(np.clip(np.floor(rows.min()), 0, camera.height_px)),
        int(np.clip(np.ceil(rows.max()) + 1, 0, camera.height_px)),
    )


def depth_scan(
    scene: RayScene,
    eye,
    target,
    camera: DepthCamera,
    rng: np.random.Generator,
    window: tuple[int, int, int, int] | None = None,
    occluders: frozenset[int] = frozenset(),
    decimation: int = 1,
) -> Scan:
    """A depth image from ``camera`` at ``eye`` looking at ``target``, as world points.

    ``window`` (col0, col1, row0, row1) casts only those pixels (see ``pixel_window``).
    ``decimation`` keeps every n-th pixel in both directions, like the librealsense decimation
    filter robots run before using a depth image. Depth noise is along the optical axis, as a
    depth image stores it; ``rings`` are pixel rows; ``occluders`` as for ``lidar_scan``.
    """
    eye = np.asarray(eye, dtype=np.float64)
    forward, right, up = camera_basis(eye, target)
    c0, c1, r0, r1 = window or (0, camera.width_px, 0, camera.height_px)
    if c1 <= c0 or r1 <= r0:
        return Scan.empty()
    f = camera.focal_px
    if decimation < 1:
        raise ValueError(f"decimation must be a positive pixel step, got {decimation}")
    columns, rows = np.arange(c0, c1, decimation), np.arange(r0, r1, decimation)
    u = columns - (camera.width_px - 1) / 2
    v = rows - (camera.height_px - 1) / 2
    uu, vv = np.meshgrid(u, v)
    directions = forward[None] * f + right[None] * uu.reshape(-1, 1) - up[None] * vv.reshape(-1, 1)
    cos_axis = f / np.linalg.norm(directions, axis=1)
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origins = np.broadcast_to(eye, directions.shape)
    noisy_t, ids, keep, occluded = _measure(
        scene,
        origins,
        directions,
        rng,
        lambda t: camera.depth_sigma(t * cos_axis) / cos_axis,
        camera.max_range_m,
        camera.dropout,
        occluders,
    )
    depth = noisy_t * cos_axis
    keep &= (depth >= camera.min_range_m) & (depth <= camera.max_range_m)
    points = origins[keep] + directions[keep] * noisy_t[keep, None]
    rows = np.repeat(rows, len(columns))
    return Scan(
        points.astype(np.float32),
        rows[keep].astype(np.uint16),
        ids[keep],
        noisy_t[keep].astype(np.float32),
        occluded,
    )
