KPL/FK

magfw dynamic frames kernel
===========================================================================

   Purpose
      Heliospheric and geocentric frames used by magfw.geometry.frames. Every frame
      here is named with the prefix MAGFW_ so that mission frames kernels that
      define their own 'GSE', 'GSM', 'HCI' ... (the Aditya-L1 FK, SolarSoft's
      heliospheric.tf, the IMAP science FK) can be loaded beside this one
      without a name clash. magfw.geometry.frames maps the names users write ("GSE",
      "HEEQ", ...) onto these frames.

   Sources
      [1] W. Thompson (NASA GSFC), heliospheric.tf version 4 (STEREO), as
          archived by NAIF for PDS: heliospheric_v004u.tf (19-Apr-2016).
          ECLIPDATE, GSE, HEE, HEEQ and HCI below repeat its definitions;
          only the names and ID codes differ.
      [2] W. Thompson, stereo_rtn.tf (SolarSoft stereo/gen/data/spice/gen/):
          STAHGRTN/STBHGRTN, the heliographic RTN frames. magfw defines the
          same TWO-VECTOR frame for any observer at run time (see "RTN").
      [3] NAIF, Frames Required Reading (frames.req), dynamic frames.

   ID codes
      14ccple, following the 18ccple pattern of [1] with the prefix 14
      (inside the 1400000..2000000 range for dynamic frames not registered
      with NAIF):
         cc = 03 geocentric, 10 heliocentric
         p  = pole basis: 2 geomagnetic, 3 ecliptic, 4 solar
         l  = longitude basis: 1 Earth-Sun, 2 ecliptic
         e  = ecliptic basis: 0 J2000, 1 mean of date
      Run-time RTN frames (MAGFW_RTN_<observer>) take ID codes from
      1950001 upward, allocated per kernel pool by magfw.geometry.kernels.

   Conventions
      All vectors are geometric (aberration correction 'NONE'). The
      planetary ephemeris (de421.bsp), the leap seconds kernel and the
      text PCK magfw_pck.tpc (IAU_SUN, IAU_EARTH) are loaded with this file
      by magfw.geometry.kernels.kernel_pool.

   Frames not defined here
      GSM with a time-varying IGRF-14 dipole is computed by magfw.geometry.frames
      (X = Earth->Sun, Z = component of the IGRF dipole axis perpendicular
      to X), because a dipole that moves with time cannot be written as a
      constant vector in a TWO-VECTOR frame. Mission frames (a GSM with a
      fixed dipole pole, spacecraft frames) come with the mission plugin's
      own frames kernels.

   RTN (heliographic, [2])
      X from the Sun centre to the observer (position in IAU_SUN), Z the
      component of the solar rotation axis (IAU_SUN +Z) perpendicular to X,
      Y = Z x X. magfw.geometry.kernels loads one such frame per observer, e.g. for
      STEREO AHEAD (-234):
         FRAME_MAGFW_RTN_M234        = 1950001
         FRAME_1950001_NAME          = 'MAGFW_RTN_M234'
         FRAME_1950001_CLASS         = 5
         FRAME_1950001_CLASS_ID      = 1950001
         FRAME_1950001_CENTER        = 10
         FRAME_1950001_RELATIVE      = 'J2000'
         FRAME_1950001_DEF_STYLE     = 'PARAMETERIZED'
         FRAME_1950001_FAMILY        = 'TWO-VECTOR'
         FRAME_1950001_PRI_AXIS      = 'X'
         FRAME_1950001_PRI_VECTOR_DEF= 'OBSERVER_TARGET_POSITION'
         FRAME_1950001_PRI_OBSERVER  = 'SUN'
         FRAME_1950001_PRI_TARGET    = '-234'
         FRAME_1950001_PRI_ABCORR    = 'NONE'
         FRAME_1950001_PRI_FRAME     = 'IAU_SUN'
         FRAME_1950001_SEC_AXIS      = 'Z'
         FRAME_1950001_SEC_VECTOR_DEF= 'CONSTANT'
         FRAME_1950001_SEC_FRAME     = 'IAU_SUN'
         FRAME_1950001_SEC_SPEC      = 'RECTANGULAR'
         FRAME_1950001_SEC_VECTOR    = ( 0, 0, 1 )


Mean Ecliptic and Equinox of Date (MAGFW_ECLIPDATE), from [1] ECLIPDATE
---------------------------------------------------------------------------

   X toward the mean equinox of date, Z toward the north pole of the mean
   ecliptic of date (IAU 1976 precession, IAU 1980 obliquity).

\begindata

   FRAME_MAGFW_ECLIPDATE        =  1403321
   FRAME_1403321_NAME           = 'MAGFW_ECLIPDATE'
   FRAME_1403321_CLASS          =  5
   FRAME_1403321_CLASS_ID       =  1403321
   FRAME_1403321_CENTER         =  399
   FRAME_1403321_RELATIVE       = 'J2000'
   FRAME_1403321_DEF_STYLE      = 'PARAMETERIZED'
   FRAME_1403321_FAMILY         = 'MEAN_ECLIPTIC_AND_EQUINOX_OF_DATE'
   FRAME_1403321_PREC_MODEL     = 'EARTH_IAU_1976'
   FRAME_1403321_OBLIQ_MODEL    = 'EARTH_IAU_1980'
   FRAME_1403321_ROTATION_STATE = 'ROTATING'

\begintext


Geocentric Solar Ecliptic (MAGFW_GSE), from [1] GSE
---------------------------------------------------------------------------

   X from the Earth to the Sun; Z the component of the mean-ecliptic-of-date
   north pole perpendicular to X; Y = Z x X.

\begindata

   FRAME_MAGFW_GSE              =  1403311
   FRAME_1403311_NAME           = 'MAGFW_GSE'
   FRAME_1403311_CLASS          =  5
   FRAME_1403311_CLASS_ID       =  1403311
   FRAME_1403311_CENTER         =  399
   FRAME_1403311_RELATIVE       = 'J2000'
   FRAME_1403311_DEF_STYLE      = 'PARAMETERIZED'
   FRAME_1403311_FAMILY         = 'TWO-VECTOR'
   FRAME_1403311_PRI_AXIS       = 'X'
   FRAME_1403311_PRI_VECTOR_DEF = 'OBSERVER_TARGET_POSITION'
   FRAME_1403311_PRI_OBSERVER   = 'EARTH'
   FRAME_1403311_PRI_TARGET     = 'SUN'
   FRAME_1403311_PRI_ABCORR     = 'NONE'
   FRAME_1403311_SEC_AXIS       = 'Z'
   FRAME_1403311_SEC_VECTOR_DEF = 'CONSTANT'
   FRAME_1403311_SEC_FRAME      = 'MAGFW_ECLIPDATE'
   FRAME_1403311_SEC_SPEC       = 'RECTANGULAR'
   FRAME_1403311_SEC_VECTOR     = ( 0, 0, 1 )

\begintext


Heliocentric Earth Ecliptic (MAGFW_HEE), from [1] HEE
---------------------------------------------------------------------------

   X from the Sun to the Earth; Z the component of the mean-ecliptic-of-date
   north pole perpendicular to X; Y = Z x X.

\begindata

   FRAME_MAGFW_HEE              =  1410311
   FRAME_1410311_NAME           = 'MAGFW_HEE'
   FRAME_1410311_CLASS          =  5
   FRAME_1410311_CLASS_ID       =  1410311
   FRAME_1410311_CENTER         =  10
   FRAME_1410311_RELATIVE       = 'J2000'
   FRAME_1410311_DEF_STYLE      = 'PARAMETERIZED'
   FRAME_1410311_FAMILY         = 'TWO-VECTOR'
   FRAME_1410311_PRI_AXIS       = 'X'
   FRAME_1410311_PRI_VECTOR_DEF = 'OBSERVER_TARGET_POSITION'
   FRAME_1410311_PRI_OBSERVER   = 'SUN'
   FRAME_1410311_PRI_TARGET     = 'EARTH'
   FRAME_1410311_PRI_ABCORR     = 'NONE'
   FRAME_1410311_SEC_AXIS       = 'Z'
   FRAME_1410311_SEC_VECTOR_DEF = 'CONSTANT'
   FRAME_1410311_SEC_FRAME      = 'MAGFW_ECLIPDATE'
   FRAME_1410311_SEC_SPEC       = 'RECTANGULAR'
   FRAME_1410311_SEC_VECTOR     = ( 0, 0, 1 )

\begintext


Heliocentric Earth Equatorial (MAGFW_HEEQ), from [1] HEEQ
---------------------------------------------------------------------------

   Z along the solar rotation axis (IAU_SUN +Z); X the component of the
   Sun->Earth vector perpendicular to Z; Y = Z x X.

\begindata

   FRAME_MAGFW_HEEQ             =  1410411
   FRAME_1410411_NAME           = 'MAGFW_HEEQ'
   FRAME_1410411_CLASS          =  5
   FRAME_1410411_CLASS_ID       =  1410411
   FRAME_1410411_CENTER         =  10
   FRAME_1410411_RELATIVE       = 'J2000'
   FRAME_1410411_DEF_STYLE      = 'PARAMETERIZED'
   FRAME_1410411_FAMILY         = 'TWO-VECTOR'
   FRAME_1410411_PRI_AXIS       = 'Z'
   FRAME_1410411_PRI_VECTOR_DEF = 'CONSTANT'
   FRAME_1410411_PRI_FRAME      = 'IAU_SUN'
   FRAME_1410411_PRI_SPEC       = 'RECTANGULAR'
   FRAME_1410411_PRI_VECTOR     = ( 0, 0, 1 )
   FRAME_1410411_SEC_AXIS       = 'X'
   FRAME_1410411_SEC_VECTOR_DEF = 'OBSERVER_TARGET_POSITION'
   FRAME_1410411_SEC_OBSERVER   = 'SUN'
   FRAME_1410411_SEC_TARGET     = 'EARTH'
   FRAME_1410411_SEC_ABCORR     = 'NONE'
   FRAME_1410411_SEC_FRAME      = 'IAU_SUN'

\begintext


Heliocentric Inertial (MAGFW_HCI), from [1] HCI
---------------------------------------------------------------------------

   Z along the solar rotation axis (IAU_SUN frozen at J2000); X toward the
   ascending node of the solar equator on the ecliptic of J2000 (done by
   taking the ECLIPJ2000 pole as secondary vector on +Y); Y = Z x X.

\begindata

   FRAME_MAGFW_HCI              =  1410420
   FRAME_1410420_NAME           = 'MAGFW_HCI'
   FRAME_1410420_CLASS          =  5
   FRAME_1410420_CLASS_ID       =  1410420
   FRAME_1410420_CENTER         =  10
   FRAME_1410420_RELATIVE       = 'J2000'
   FRAME_1410420_DEF_STYLE      = 'PARAMETERIZED'
   FRAME_1410420_FAMILY         = 'TWO-VECTOR'
   FRAME_1410420_FREEZE_EPOCH   = @2000-JAN-01/12:00:00
   FRAME_1410420_PRI_AXIS       = 'Z'
   FRAME_1410420_PRI_VECTOR_DEF = 'CONSTANT'
   FRAME_1410420_PRI_FRAME      = 'IAU_SUN'
   FRAME_1410420_PRI_SPEC       = 'RECTANGULAR'
   FRAME_1410420_PRI_VECTOR     = ( 0, 0, 1 )
   FRAME_1410420_SEC_AXIS       = 'Y'
   FRAME_1410420_SEC_VECTOR_DEF = 'CONSTANT'
   FRAME_1410420_SEC_FRAME      = 'ECLIPJ2000'
   FRAME_1410420_SEC_SPEC       = 'RECTANGULAR'
   FRAME_1410420_SEC_VECTOR     = ( 0, 0, 1 )

\begintext
