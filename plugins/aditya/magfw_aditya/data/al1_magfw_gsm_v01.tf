KPL/FK

Aditya-L1 GSM with the fixed 2000.0 dipole pole, for magfw
===========================================================================

   Purpose
      The GSM frame of the Aditya-L1 archive, which uses a constant dipole
      pole rather than the dipole of date. magfw's Aditya L2 loads this
      kernel (as a kernel input of the unit) when run with
      '--gsm-dipole fixed2000'; by default L2 uses magfw's own GSM with the
      IGRF-14 dipole of date (magfw.geometry.frames, frame 'GSM').

   Source
      Aditya-L1 frames kernel ADITYA_frame_kernel_v04.tf (public copy in the
      repository janmejoysarkar/suit_pangle): GSM with a fixed dipole pole at
      79.54 deg N, 288.43 deg E in IAU_EARTH, which is the IGRF/DGRF 2000.0
      dipole (g10 = -29619.4, g11 = -1728.2, h11 = 5186.1 nT). Reproduced
      here as GSM_FIXED2000 (a name of our own, so that it loads beside a
      kernel that defines 'GSM'); the definition is the same. It differs
      from GSM with the dipole of date by 0.5-1.3 deg in 2024-2026.

   ID code
      1563211, in the 1400000..2000000 range for dynamic frames not
      registered with NAIF: 156 for Aditya-L1 (NAIF -156), then the
      'ccple' digits of magfw_frames.tf (03 geocentric, 2 geomagnetic pole,
      1 Earth-Sun longitude basis, 1 of date).

   Conventions
      Geometric vectors (aberration correction 'NONE'). Needs the
      planetary ephemeris and a PCK with IAU_EARTH, which magfw's kernel
      pool always loads. magfw.geometry.frames reads this definition to choose how
      to sample the frame (a leg driven by ephemerides and Earth rotation:
      a 60-s grid), so nothing in magfw names this frame.


Geocentric Solar Magnetospheric, fixed 2000.0 dipole (GSM_FIXED2000)
---------------------------------------------------------------------------

   X from the Earth to the Sun; Z the component of a constant dipole axis,
   79.54 deg N 288.43 deg E in IAU_EARTH (the IGRF 2000.0 pole), perpendicular
   to X; Y = Z x X.

\begindata

   FRAME_GSM_FIXED2000          =  1563211
   FRAME_1563211_NAME           = 'GSM_FIXED2000'
   FRAME_1563211_CLASS          =  5
   FRAME_1563211_CLASS_ID       =  1563211
   FRAME_1563211_CENTER         =  399
   FRAME_1563211_RELATIVE       = 'J2000'
   FRAME_1563211_DEF_STYLE      = 'PARAMETERIZED'
   FRAME_1563211_FAMILY         = 'TWO-VECTOR'
   FRAME_1563211_PRI_AXIS       = 'X'
   FRAME_1563211_PRI_VECTOR_DEF = 'OBSERVER_TARGET_POSITION'
   FRAME_1563211_PRI_OBSERVER   = 'EARTH'
   FRAME_1563211_PRI_TARGET     = 'SUN'
   FRAME_1563211_PRI_ABCORR     = 'NONE'
   FRAME_1563211_SEC_AXIS       = 'Z'
   FRAME_1563211_SEC_VECTOR_DEF = 'CONSTANT'
   FRAME_1563211_SEC_FRAME      = 'IAU_EARTH'
   FRAME_1563211_SEC_SPEC       = 'LATITUDINAL'
   FRAME_1563211_SEC_UNITS      = 'DEGREES'
   FRAME_1563211_SEC_LONGITUDE  =  288.43
   FRAME_1563211_SEC_LATITUDE   =  79.54

\begintext
